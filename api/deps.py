"""Dependencies of the routes: the search engine the app was created around."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa.search.engine import SearchEngine


async def get_engine(request: Request) -> SearchEngine:
    """The engine ``create_app`` put in ``app.state``.

    Async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool,
    a hop per request for what is an attribute read.
    """
    engine: SearchEngine = request.app.state.engine
    return engine


EngineDep = Annotated[SearchEngine, Depends(get_engine)]
