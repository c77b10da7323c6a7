"""Who may read and who may write: bearer tokens.

The tokens are those of what the request is served from (``api.deps.get_served``): for a
service of one index ``QA_READ_TOKEN`` and ``QA_ADMIN_TOKEN``; for a collection, the
``read_token`` and ``admin_token`` of its ``access.toml``, and nothing else (a token of one
collection never opens another). Writing needs the admin token; with none configured, writing
over HTTP is off (403 saying how to turn it on). Reading is open unless a read token is set;
then it needs that token (or the admin token). Tokens are compared in constant time.

``require_operator`` guards what spans every collection (``/metrics`` of a collections
service): the service's own ``QA_READ_TOKEN`` or ``QA_ADMIN_TOKEN``, never a collection's.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from api.deps import ServedDep
from qa.search.collection_access import ACCESS_FILE
from qa.settings import Settings

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def bearer(request: Request) -> str | None:
    """The token of the request's ``Authorization: Bearer`` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def matches(given: str | None, *expected: str | None) -> bool:
    """Whether ``given`` is one of the ``expected`` tokens that are set (constant time)."""
    return given is not None and any(
        e is not None and hmac.compare_digest(given.encode(), e.encode()) for e in expected)


async def require_admin(request: Request, served: ServedDep) -> None:
    """The admin token, or 401; 403 when writing over HTTP is not configured."""
    admin = served.access.admin_token
    if not admin:
        if served.collection is None:
            raise HTTPException(403, "writing over HTTP is off: start the service with "
                                     "QA_ADMIN_TOKEN set to a secret and send it as "
                                     "'Authorization: Bearer <token>'")
        raise HTTPException(403, f"writing to collection {served.collection!r} over HTTP is off: "
                                 f"set admin_token in its {ACCESS_FILE} and send it as "
                                 "'Authorization: Bearer <token>'")
    given = bearer(request)
    if given is None:
        raise HTTPException(401, "this needs 'Authorization: Bearer <admin token>'",
                            headers=_CHALLENGE)
    if not matches(given, admin):
        raise HTTPException(401, "wrong admin token", headers=_CHALLENGE)


async def require_reader(request: Request, served: ServedDep) -> None:
    """Nothing while reads are open; else the read (or admin) token, or 401."""
    reader = served.access.read_token
    if not reader:
        return
    if not matches(bearer(request), reader, served.access.admin_token):
        what = "this service" if served.collection is None else \
            f"collection {served.collection!r}"
        raise HTTPException(401, f"{what} needs 'Authorization: Bearer <read token>'",
                            headers=_CHALLENGE)


async def require_operator(request: Request) -> None:
    """The service's own read or admin token (``QA_READ_TOKEN``, ``QA_ADMIN_TOKEN``), or 401;
    403 when neither is set, for what would otherwise show every collection to anyone."""
    settings: Settings = request.app.state.settings
    server = settings.server
    if not (server.read_token or server.admin_token):
        raise HTTPException(403, "this spans every collection and is only for the operator: "
                                 "start the service with QA_READ_TOKEN (or QA_ADMIN_TOKEN) set "
                                 "and send it as 'Authorization: Bearer <token>'")
    if not matches(bearer(request), server.read_token, server.admin_token):
        raise HTTPException(401, "this needs 'Authorization: Bearer <the service's read or "
                                 "admin token>'", headers=_CHALLENGE)
