"""The FastAPI application, built by a factory around a ready live engine.

The ``LiveEngine`` (or, for a service of collections, the ``Collections``) goes into
``app.state``; each request takes the engine of the generation served when it starts through
the ``api.deps.EngineDep`` dependency (and the holder itself through ``LiveDep``; which holder,
for a collection, ``api.deps.get_served`` decides from the path). The app runs the holder's
watcher from start-up to shut-down, so a newer generation (or collection) is served without a
restart. The routes live in ``api/routers/`` (one
router per resource), the error responses in ``api/errors.py``.

Around the routes (outermost first): the access log, security headers on every response
(``api.headers``), the allowed ``Host`` names (``api.hosts``), CORS when ``QA_CORS_ORIGINS``
names origins (Starlette's middleware; off by default), ``HEAD`` and ``Allow`` (``api.methods``),
the request metrics (``api.metrics``), admission (``api.admission``: 503 past the limit of
requests under way) and the body limits (``api.limits``). ``/openapi.json`` is completed by ``api.openapi``;
``/docs`` and ``/redoc`` are served offline (``api.routers.docs``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from api.access import AccessLog
from api.admission import Admission
from api.collection_routes import under_collections
from api.deps import Unpin
from api.errors import add_error_handlers
from api.headers import SecurityHeaders
from api.hosts import WILDCARD_ADDRESSES, AllowedHosts
from api.limits import add_body_limit
from api.methods import Methods
from api.metrics import add_metrics
from api.openapi import install_openapi
from api.routers import collections as listing
from api.routers import docs, document_writes, documents, examples, health, page, search
from api.server import conversions_stop_on_signals
from qa import __version__
from qa.search.collections import Collections
from qa.search.engine import SearchEngine
from qa.search.live import LiveEngine
from qa.settings import Settings


def create_app(engine: LiveEngine | SearchEngine | Collections, settings: Settings | None = None,
               *, access_log: bool | None = None) -> FastAPI:
    """The API and the chat page over ``engine``; tests pass one built on a fixture index.

    A plain ``SearchEngine`` is served as it is, never swapped (``LiveEngine.fixed``), with
    ``settings`` (the whole configuration; ``None``: the environment's); a ``LiveEngine``
    brings its own. ``Collections`` (``qa serve --collections``) serve each collection's API
    under ``/api/collections/{name}/`` (``api.collection_routes``), list them at ``GET
    /api/collections`` and answer ``/health`` for the service; they bring their settings too.
    The app reads the ``server`` and ``limits`` groups. ``access_log`` adds one JSON log line
    per request (the ``api.access`` logger, see that module; every response carries its
    ``X-Request-ID`` either way); ``None`` takes ``QA_ACCESS_LOG``. ``GET /metrics`` is served
    when ``QA_METRICS`` is on (``api.metrics``).
    """
    collections = engine if isinstance(engine, Collections) else None
    served: LiveEngine | Collections
    if isinstance(engine, Collections | LiveEngine):
        served, whole = engine, engine.settings
    else:
        served = LiveEngine.fixed(engine, settings if settings is not None else Settings())
        whole = served.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        served.start()
        try:
            with conversions_stop_on_signals():  # a shutdown does not wait for a conversion
                yield
        finally:
            await asyncio.to_thread(served.stop)  # a refresh (or scan) under way finishes first

    app = FastAPI(
        title="Svensk QA",
        version=__version__,
        description="Ask in Swedish; get the passages that answer, with exact citations "
        "(document, title, character span).",
        lifespan=lifespan,
        docs_url=None,  # served offline by api.routers.docs
        redoc_url=None,
    )
    server, limits = whole.server, whole.limits
    app.state.settings = whole
    if collections is None:
        app.state.live = served
    else:
        app.state.collections = collections
    add_error_handlers(app)
    api_routers = [m.router for m in (health, search, documents, document_writes, examples)]
    if collections is None:
        routers = [*api_routers, page.router, docs.router]
    else:
        routers = [listing.router, under_collections(api_routers), page.router,
                   page.collection_router, docs.router]
    for router in routers:
        app.include_router(router)
    routes = [route for router in routers for route in router.routes]
    add_body_limit(app, int(limits.max_request_mb * 2**20),
                   other_limit=int(limits.max_body_kb * 2**10), timeout=limits.body_timeout)
    app.add_middleware(Admission, limit=limits.max_active_requests)
    page.mount_static(app)
    docs.mount_assets(app)
    if server.metrics:
        add_metrics(app, served)
    install_openapi(app, routes, server, limits, collections=collections is not None)
    app.add_middleware(Methods, routes=[*routes, *app.router.routes])
    if server.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=server.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"], max_age=600)
    bound = [] if server.host in WILDCARD_ADDRESSES else [server.host]
    app.add_middleware(AllowedHosts, allowed=[*server.allowed_hosts, *bound])
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog, log_lines=server.access_log if access_log is None else access_log)
    app.add_middleware(Unpin)
    return app
