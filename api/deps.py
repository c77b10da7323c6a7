"""Dependencies of the routes: the live engine the app was created around, and the search
engine of the generation a request is pinned to."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.search.engine import SearchEngine
from qa.search.live import LiveEngine
from qa.settings import Settings

# Where a request keeps the engine it was given: in its ASGI scope, so a file response
# streamed after the route returned still has its generation leased. ``Unpin`` drops it once
# the response is sent.
_PINNED = "qa.engine"


class Unpin:
    """ASGI middleware: forget the request's engine once its response is sent.

    The server keeps a keep-alive connection's last scope until the next request on it; without
    this, an idle connection would hold on to an old generation (and its files) for as long.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            scope.pop(_PINNED, None)


async def get_live(request: Request) -> LiveEngine:
    """The ``LiveEngine`` ``create_app`` put in ``app.state`` (the write endpoints call its
    ``refresh`` after publishing)."""
    live: LiveEngine = request.app.state.live
    return live


async def get_engine(request: Request) -> SearchEngine:
    """The engine of the generation served when the request first asked: taken once, then the
    same for the whole request (every route and dependency of it), so a request sees one
    generation whole while newer ones are swapped in.

    Async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool,
    a hop per request for what is an attribute read.
    """
    engine: SearchEngine | None = request.scope.get(_PINNED)
    if engine is None:
        engine = request.scope[_PINNED] = request.app.state.live.current()
    return engine


async def get_settings(request: Request) -> Settings:
    """The settings the app serves with (the live engine's, whole: the routes read their
    ``server`` and ``limits`` groups; the search engine itself has only ``search``)."""
    settings: Settings = request.app.state.live.settings
    return settings


EngineDep = Annotated[SearchEngine, Depends(get_engine)]
LiveDep = Annotated[LiveEngine, Depends(get_live)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
