"""Dependencies of the routes: the live engine the app was created around, and the search
engine of the generation a request is pinned to."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa.search.engine import SearchEngine
from qa.search.live import LiveEngine

# Where a request keeps the engine it was given: in its ASGI scope, which lives until the
# response is sent, so a file response streamed after the route returned still has its
# generation leased.
_PINNED = "qa.engine"


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


EngineDep = Annotated[SearchEngine, Depends(get_engine)]
LiveDep = Annotated[LiveEngine, Depends(get_live)]
