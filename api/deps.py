"""Dependencies of the routes: what a request is served from (the one index, or the collection
its path names), and the search engine of the generation the request is pinned to.

The same routes (``api/routers/*``) answer both under ``/api/…`` for a service of one index and
under ``/api/collections/{collection}/…`` for a service of collections (``api.collections``):
they never look at the app themselves, only at these dependencies. ``get_served`` decides, once
per request, which live engine and which tokens the request is about; every other dependency
derives from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.search.collection_access import Access
from qa.search.engine import SearchEngine
from qa.search.live import LiveEngine
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.search.collections import Collections

# Where a request keeps what it was given: in its ASGI scope, so a file response streamed after
# the route returned still has its generation leased. ``Unpin`` drops both once the response is
# sent.
_PINNED = "qa.engine"
SERVED = "qa.served"

#: The path parameter that names a collection (``/api/collections/{collection}/…``).
COLLECTION_PARAM = "collection"


@dataclass(frozen=True)
class Served:
    """What one request reads and writes: a live engine, its tokens, the collection's name
    (None: the service's one index) and the path its API lives under (``/api`` or
    ``/api/collections/NAME``), for links such as a document's original."""

    live: LiveEngine
    access: Access
    collection: str | None
    api: str


class Unpin:
    """ASGI middleware: forget the request's engine once its response is sent.

    The server keeps a keep-alive connection's last scope until the next request on it; without
    this, an idle connection would hold on to an old generation (and its files), or to a
    collection removed since, for as long.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            scope.pop(_PINNED, None)
            scope.pop(SERVED, None)


def collections_of(request: Request) -> Collections | None:
    """The app's ``Collections`` (``create_app`` over collections), or None for one index."""
    found: Collections | None = getattr(request.app.state, "collections", None)
    return found


async def get_served(request: Request) -> Served:
    """What the request is about, decided once and kept in its scope.

    One index: the app's live engine with the service's tokens (``QA_READ_TOKEN``,
    ``QA_ADMIN_TOKEN``). Collections: the collection the path names, with the tokens of its
    ``access.toml``; an unknown name is ``UnknownCollectionError`` (404).
    """
    served: Served | None = request.scope.get(SERVED)
    if served is not None:
        return served
    collections = collections_of(request)
    if collections is None:
        live: LiveEngine = request.app.state.live
        server = live.settings.server
        served = Served(live, Access(server.read_token, server.admin_token), None, "/api")
    else:
        name = request.path_params.get(COLLECTION_PARAM)
        if not isinstance(name, str):
            raise RuntimeError(f"{request.url.path}: a route of a collections app names no "
                               "collection")
        found = collections.get(name)
        served = Served(found.live, found.access, found.name, f"/api/collections/{found.name}")
    request.scope[SERVED] = served
    return served


ServedDep = Annotated[Served, Depends(get_served)]


async def get_live(served: ServedDep) -> LiveEngine:
    """The ``LiveEngine`` the request is served from (the write endpoints call its
    ``refresh`` after publishing)."""
    return served.live


async def get_engine(request: Request, served: ServedDep) -> SearchEngine:
    """The engine of the generation served when the request first asked: taken once, then the
    same for the whole request (every route and dependency of it), so a request sees one
    generation whole while newer ones are swapped in.

    Async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool,
    a hop per request for what is an attribute read.
    """
    engine: SearchEngine | None = request.scope.get(_PINNED)
    if engine is None:
        engine = request.scope[_PINNED] = served.live.current()
    return engine


async def get_settings(served: ServedDep) -> Settings:
    """The settings the request is served with (the live engine's, whole: the routes read their
    ``server`` and ``limits`` groups; the search engine itself has only ``search``). For a
    collection: the service's, with the collection's index directory and example questions."""
    return served.live.settings


EngineDep = Annotated[SearchEngine, Depends(get_engine)]
LiveDep = Annotated[LiveEngine, Depends(get_live)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
