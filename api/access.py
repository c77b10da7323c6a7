"""One access-log line per HTTP request: method, path, status and time in milliseconds.

A plain ASGI middleware (no request or response objects are built), logging to
the ``api.access`` logger at INFO when the response has been sent, or when the
request failed (then as status 500, which is what the client gets). uvicorn's
own access log has no duration, so ``qa serve`` turns it off and uses this one.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class AccessLog:
    """Wraps an ASGI app; logs ``METHOD /path STATUS 12.3 ms`` for each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            log.info("%s %s %d %.1f ms", scope["method"], scope["path"], status,
                     (time.perf_counter() - start) * 1000)
