"""Who may read and who may write: bearer tokens from the settings.

Writing (``POST``/``PUT``/``DELETE /api/documents``) needs ``Authorization: Bearer
<QA_ADMIN_TOKEN>``; with no admin token configured, writing over HTTP is off (403 saying how
to turn it on). Reading is open unless ``QA_READ_TOKEN`` is set; then it needs that token (or
the admin token). Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from api.deps import EngineDep

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _matches(given: str | None, *expected: str | None) -> bool:
    return given is not None and any(
        e is not None and hmac.compare_digest(given.encode(), e.encode()) for e in expected)


async def require_admin(request: Request, engine: EngineDep) -> None:
    """The admin token, or 401; 403 when writing over HTTP is not configured."""
    admin = engine.settings.admin_token
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


async def require_reader(request: Request, engine: EngineDep) -> None:
    """Nothing while reads are open; else the read (or admin) token, or 401."""
    reader = engine.settings.read_token
    if not reader:
        return
    if not _matches(_bearer(request), reader, engine.settings.admin_token):
        raise HTTPException(401, "this service needs 'Authorization: Bearer <read token>'",
                            headers=_CHALLENGE)

