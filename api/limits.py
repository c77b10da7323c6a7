"""Limits on request bodies, in size and in time, for every route.

Size: a document write (``POST``/``PUT``/``PATCH`` under ``/api/documents``) may send
``QA_MAX_REQUEST_MB``, every other request ``QA_MAX_BODY_KB``; larger is 413. A declared
``Content-Length`` over the limit is refused before the app sees the request, so not a byte of
the body is read; a body sent without one (chunked) is counted as it arrives and refused when
it passes the limit, so no request can fill memory or disk beyond it.

Time: a body may stall (no new bytes) at most ``QA_BODY_TIMEOUT`` seconds, and a body other
than a document write must arrive whole within that time (a search body is small; an upload
may be large and slow but must keep coming); else 408 and the connection is closed. The
request head has its own deadline (``api.server``).

A response that starts before the request's body has arrived whole (a refusal: 413, or
401/403 from a route's dependency) says ``Connection: close``: the server then closes the
connection with a lingering close (``api.server``), which lets a client that writes its whole
body before reading receive that answer, and the rest of the body is never parsed as a request.

Both errors are ``HTTPException``s, so a body read by FastAPI itself (a route's JSON body)
reaches the app's error handler as what it is, not as "There was an error parsing the body".
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException

_WRITES = frozenset({"POST", "PUT", "PATCH"})
_CLOSE = {"connection": "close"}
_CLOSE_HEADER = ((b"connection", b"close"),)


class BodyTooLargeError(HTTPException):
    """The body passed its limit while it was being read (413)."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail, headers=_CLOSE)


class BodyTimeoutError(HTTPException):
    """The body stalled, or did not arrive in time (408)."""

    def __init__(self, detail: str) -> None:
        super().__init__(408, detail, headers=_CLOSE)


def too_large(limit: int, setting: str = "QA_MAX_REQUEST_MB") -> str:
    amount = f"{limit / 2**20:g} MiB" if setting == "QA_MAX_REQUEST_MB" else f"{limit / 2**10:g} KiB"
    return f"the request body is larger than {amount} ({setting})"


def too_slow(seconds: float) -> str:
    return (f"the request body did not arrive in time (it must keep coming, with pauses of at "
            f"most {seconds:g} s; QA_BODY_TIMEOUT)")


class BodyLimit:
    """ASGI middleware: the size and time limits above.

    ``limit`` is the document writes' (under ``prefix``), ``other_limit`` every other
    request's; ``timeout`` the body's deadline in seconds (None: none).
    """

    def __init__(self, app: Any, limit: int, prefix: str = "/api/documents",
                 other_limit: int | None = None, timeout: float | None = None) -> None:
        self.app, self.limit, self.prefix = app, limit, prefix
        self.other_limit = limit if other_limit is None else other_limit
        self.timeout = timeout

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        write = scope["method"] in _WRITES and scope["path"].startswith(self.prefix)
        limit = self.limit if write else self.other_limit
        setting = "QA_MAX_REQUEST_MB" if write else "QA_MAX_BODY_KB"
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, too_large(limit, setting))
            return
        seen = 0
        # A request without a body (GET, or a declared length of 0) has nothing left to come.
        done = (b"transfer-encoding" not in headers
                and (declared is None or declared in (b"0", b"")))
        timeout = self.timeout
        # A body other than a write arrives whole within the timeout, from the request's start.
        deadline = None if write or timeout is None else time.monotonic() + timeout

        async def checked() -> dict[str, Any]:
            nonlocal seen, done
            if done or timeout is None:  # a finished body: waiting for a disconnect has no limit
                message = await receive()
            else:
                wait = timeout if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    # A timeout on this task, not ``wait_for`` (a new task per receive).
                    async with asyncio.timeout(wait):
                        message = await receive()
                except TimeoutError:
                    raise BodyTimeoutError(too_slow(timeout)) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(too_large(limit, setting))
                done = done or not message.get("more_body", False)
            else:
                done = True
            return message

        async def closing(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and not done:
                given = list(message.get("headers", ()))
                if not any(name.lower() == b"connection" for name, _ in given):
                    message = {**message, "headers": [*given, *_CLOSE_HEADER]}
            await send(message)

        await self.app(scope, checked, closing)


async def _refuse(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def add_body_limit(app: FastAPI, limit: int, *, other_limit: int | None = None,
                   timeout: float | None = None) -> None:
    """Refuse write bodies over ``limit`` bytes and other bodies over ``other_limit`` with 413,
    and bodies slower than ``timeout`` with 408 (see the module)."""
    app.add_middleware(BodyLimit, limit=limit, other_limit=other_limit, timeout=timeout)
