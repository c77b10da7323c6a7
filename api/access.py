"""One access-log line per HTTP request, as JSON: when, which request, who, what, how it went.

A plain ASGI middleware (no request or response objects are built), logging to the
``api.access`` logger at INFO once the response has been sent, or when the request failed
(then as status 500, which is what the client gets). Each line is one JSON object::

    {"time": "2025-06-02T10:41:07.011Z", "request_id": "5f0c2a9e81d34b7a", "client": "127.0.0.1",
     "method": "POST", "path": "/api/search", "status": 200, "bytes": 2345, "ms": 14.2}

``time`` is when the request arrived (UTC); ``ms`` the time from then to its last byte;
``bytes`` the size of the response body. The request id is the client's ``X-Request-ID`` when
it sends a short, plain one (letters, digits, ``.``, ``_``, ``:``, ``-``; a proxy's id then
follows the request through), else a new random one; it is sent back as ``X-Request-ID`` and
kept in the request's ASGI scope for code that logs about the request (:func:`request_id`: the
500 handler logs it with the traceback). Only the method, path and status are logged of a request: never its
headers (a bearer token stays out of the log), its query string or its body.

uvicorn's own access log is off in ``qa serve``: it has no duration and no request id.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

HEADER = "x-request-id"
_GIVEN = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
_SCOPE_KEY = "qa.request_id"


def request_id(scope: Scope) -> str | None:
    """The id ``AccessLog`` gave the request of ``scope`` (``None`` without that middleware)."""
    found = scope.get(_SCOPE_KEY)
    return found if isinstance(found, str) else None


def _id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode() and _GIVEN.match(value):
            return value.decode()
    return secrets.token_hex(8)


class AccessLog:
    """Wraps an ASGI app: gives each HTTP request an id (``X-Request-ID``) and logs it as one
    JSON line. With ``log_lines=False`` only the id is given (no lines are written)."""

    def __init__(self, app: ASGIApp, log_lines: bool = True) -> None:
        self.app = app
        self.log_lines = log_lines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = scope[_SCOPE_KEY] = _id_of(scope)
        arrived = time.time()
        start = time.perf_counter()
        status, size = 500, 0

        async def noting(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER.encode(), rid.encode())]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            if self.log_lines and log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                log.info("%s", json.dumps({
                    "time": datetime.fromtimestamp(arrived, UTC).isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
                    "request_id": rid,
                    "client": client[0] if client else None,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "bytes": size,
                    "ms": round((time.perf_counter() - start) * 1000, 1),
                }, ensure_ascii=False))
