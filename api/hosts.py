"""Which ``Host`` names the service answers to (``QA_ALLOWED_HOSTS``); any other is a 400.

A service on a desktop without authentication can otherwise be reached by a web page through
a name the page's author controls that resolves to 127.0.0.1 (DNS rebinding): the browser
then treats the service as part of that page's site. Checking ``Host`` stops that, since the
browser sends the attacker's name. By default only the localhost names are answered.

Starlette's ``TrustedHostMiddleware`` does the same check but answers in plain text; this one
answers ``{"detail": …}`` as every other error of the API does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

# A Host header: a name or IPv4 address, or a bracketed IPv6 address; then an optional port.
_HOST = re.compile(r"(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")

WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})


def normalise(name: str) -> str:
    """A host name as compared: lower case, an IPv6 address without its brackets."""
    return name.strip().lower().removeprefix("[").removesuffix("]")


class AllowedHosts:
    """ASGI middleware: requests whose ``Host`` is not allowed are answered 400.

    ``allowed`` holds names (``localhost``), addresses (``127.0.0.1``, ``::1``), suffix
    patterns (``*.example.org``: its subdomains) or ``*`` (any host: the check is off).
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        names = [normalise(a) for a in allowed]
        self.any = "*" in names
        self.exact = frozenset(n for n in names if not n.startswith("*."))
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))

    def allows(self, host_header: str | None) -> bool:
        """Whether a request with this ``Host`` header is answered."""
        if self.any:
            return True
        match = _HOST.fullmatch(host_header or "")
        if match is None:
            return False
        host = normalise(match["host"])
        return host in self.exact or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any:
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if self.allows(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": "this service does not answer to the host named in the Host "
                                     "header (see QA_ALLOWED_HOSTS)"}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
