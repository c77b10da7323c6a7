"""Security headers on every response: a Content-Security-Policy without inline script,
``X-Content-Type-Options``, ``Referrer-Policy`` and no framing by other sites.

Everything the service serves comes from itself (the page, its scripts, the API docs and their
assets), so the policy allows only this origin. The API docs (``/docs``, ``/redoc``) get a
policy that also allows inline *styles* (Swagger UI and ReDoc set them as they render), data
URLs for images and fonts, and ReDoc's search worker (a ``blob:`` URL); scripts stay
same-origin files everywhere. A response that sets its own policy keeps it: a document's
original file is served with ``sandbox``, under which nothing in it runs as part of this site.

A dozen lines of ASGI: the header-setting packages on PyPI add nothing a fixed set of headers
needs, and this one knows which paths are the docs.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = ("default-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PAGE_POLICY = f"{_COMMON}; style-src 'self'; img-src 'self' data:; font-src 'self'"
DOCS_POLICY = (f"{_COMMON}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "font-src 'self' data:; worker-src 'self' blob:")
DOCS_PATHS = ("/docs", "/redoc")

_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate it
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        docs = path in DOCS_PATHS or path.startswith("/docs/")
        policy = (DOCS_POLICY if docs else PAGE_POLICY).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [(k, v) for k, v in _ALWAYS if k not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", policy))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, with_headers)
