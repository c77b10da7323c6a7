"""Bounded concurrency: at most ``QA_MAX_ACTIVE_REQUESTS`` requests are handled at once.

One more is answered at once with 503, ``Retry-After`` and ``{"detail": …}``, instead of
joining an unbounded queue in which every client would wait longer and longer (and the
server's memory would grow with it). A client told to retry can go elsewhere or come back;
one left waiting cannot tell a slow service from a dead one.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1


class Admission:
    """ASGI middleware: counts the HTTP requests under way; past ``limit``, 503."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.active = 0  # one event loop: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            log.warning("busy: %d requests under way (QA_MAX_ACTIVE_REQUESTS); answered 503",
                        self.active)
            await _busy(send, self.limit)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


async def _busy(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"the service is busy ({limit} requests under way, "
                                 f"QA_MAX_ACTIVE_REQUESTS); try again in "
                                 f"{RETRY_AFTER_SECONDS} s"}).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]})
    await send({"type": "http.response.body", "body": body})
