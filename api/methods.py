"""HTTP methods: ``HEAD`` wherever ``GET`` works, and a complete ``Allow`` on every 405.

FastAPI routes answer only the methods they declare, so ``HEAD /health`` would be a 405. Here a
``HEAD`` request is handled as the ``GET`` of the same URL and answered with its status and
headers (``Content-Length`` included) but no body. The OpenAPI document lists the ``GET``
operations only: ``HEAD`` is implied by HTTP, as Starlette's own routes imply it.

A 405 from the router names the methods of the first route whose path matched; where two
routes share a path (``GET`` and ``POST /api/documents``) that is half the truth. The ``Allow``
header of a 405 is replaced by every method of every route matching the path (with ``HEAD``
where ``GET`` is allowed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def allowed_methods(routes: Iterable[Any], path: str) -> list[str]:
    """Every method the ``routes`` answer at ``path`` (``HEAD`` with ``GET``), sorted."""
    methods: set[str] = set()
    for route in routes:
        regex: re.Pattern[str] | None = getattr(route, "path_regex", None)
        if regex is not None and route.methods and regex.match(path):
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class Methods:
    """ASGI middleware: ``HEAD`` as ``GET`` without the body; the whole ``Allow`` on a 405.

    ``routes`` are the app's routes with a ``path_regex`` and ``methods`` (``APIRoute`` and
    Starlette ``Route``); mounts answer their own methods.
    """

    def __init__(self, app: ASGIApp, routes: Iterable[Any]) -> None:
        self.app = app
        self.routes = [r for r in routes if getattr(r, "path_regex", None) is not None
                       and getattr(r, "methods", None)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            # A copy: the server keeps its own scope, and with it knows this is a HEAD.
            scope = {**scope, "method": "GET"}
        path: str = scope["path"]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = allowed_methods(self.routes, path)
                if allow:
                    headers = [(k, v) for k, v in message.get("headers", [])
                               if k.lower() != b"allow"]
                    headers.append((b"allow", ", ".join(allow).encode()))
                    message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and head:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, sending)
