"""Who may read and who may write: bearer tokens from the settings.

Writing (``POST``/``PUT``/``DELETE /api/documents``) needs ``Authorization: Bearer
<QA_ADMIN_TOKEN>``; with no admin token configured, writing over HTTP is off (403 saying how
to turn it on). Reading is open unless ``QA_READ_TOKEN`` is set; then it needs that token (or
the admin token). Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from api.deps import SettingsDep
from qa.settings import Settings

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _matches(given: str | None, *expected: str | None) -> bool:
    return given is not None and any(
        e is not None and hmac.compare_digest(given.encode(), e.encode()) for e in expected)


async def require_admin(request: Request, settings: SettingsDep) -> None:
    """The admin token, or 401; 403 when writing over HTTP is not configured."""
    admin = settings.server.admin_token
    if not admin:
        raise HTTPException(403, "writing over HTTP is off: start the service with "
                                 "QA_ADMIN_TOKEN set to a secret and send it as "
                                 "'Authorization: Bearer <token>'")
    given = _bearer(request)
    if given is None:
        raise HTTPException(401, "this needs 'Authorization: Bearer <admin token>'",
                            headers=_CHALLENGE)
    if not _matches(given, admin):
        raise HTTPException(401, "wrong admin token", headers=_CHALLENGE)


async def require_reader(request: Request) -> None:
    """Nothing while reads are open; else the read (or admin) token, or 401.

    It reads the settings from the app itself rather than through ``SettingsDep``: it runs on
    every read, and each dependency is one more pass of FastAPI's dependency solver.
    """
    settings: Settings = request.app.state.live.settings
    reader = settings.server.read_token
    if not reader:
        return
    if not _matches(_bearer(request), reader, settings.server.admin_token):
        raise HTTPException(401, "this service needs 'Authorization: Bearer <read token>'",
                            headers=_CHALLENGE)

