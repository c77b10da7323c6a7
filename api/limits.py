"""A limit on request bodies: a write larger than ``QA_MAX_REQUEST_MB`` is answered 413.

A declared ``Content-Length`` over the limit is refused before the body is read; a body sent
without one (chunked) is counted as it arrives and refused when it passes the limit, so no
upload can fill memory or disk beyond it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

_WRITES = frozenset({"POST", "PUT", "PATCH"})


class BodyTooLargeError(Exception):
    """The body passed the limit while it was being read."""


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit / 2**20:g} MiB (QA_MAX_REQUEST_MB)"


class BodyLimit:
    """ASGI middleware: bodies of writes under ``prefix`` may be at most ``limit`` bytes."""

    def __init__(self, app: Any, limit: int, prefix: str = "/api/documents") -> None:
        self.app, self.limit, self.prefix = app, limit, prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or scope["method"] not in _WRITES
                or not scope["path"].startswith(self.prefix)):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, self.limit)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLargeError(too_large(self.limit))
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Any, limit: int) -> None:
    body = json.dumps({"detail": too_large(limit)}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _body_too_large(_: Request, exc: BodyTooLargeError) -> JSONResponse:
    return JSONResponse(status_code=413, content={"detail": str(exc)},
                        headers={"connection": "close"})


def add_body_limit(app: FastAPI, limit: int) -> None:
    """Refuse write bodies over ``limit`` bytes with 413 (middleware and its error handler)."""
    app.add_middleware(BodyLimit, limit=limit)
    app.add_exception_handler(BodyTooLargeError, _body_too_large)  # type: ignore[arg-type]
