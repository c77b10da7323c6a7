"""The FastAPI application, built by a factory around a ready live engine.

The ``LiveEngine`` goes into ``app.state``; each request takes the engine of the generation
served when it starts through the ``api.deps.EngineDep`` dependency (and the holder itself
through ``LiveDep``). The app runs the holder's watcher from start-up to shut-down, so a
newer generation is served without a restart. The routes live in ``api/routers/`` (one
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
from api.deps import Unpin
from api.errors import add_error_handlers
from api.headers import SecurityHeaders
from api.hosts import WILDCARD_ADDRESSES, AllowedHosts
from api.limits import add_body_limit
from api.methods import Methods
from api.metrics import add_metrics
from api.openapi import install_openapi
from api.routers import docs, document_writes, documents, examples, health, page, search
from api.server import conversions_stop_on_signals
from qa import __version__
from qa.search.engine import SearchEngine
from qa.search.live import LiveEngine


def create_app(engine: LiveEngine | SearchEngine, *, access_log: bool | None = None) -> FastAPI:
    """The API and the chat page over ``engine``; tests pass one built on a fixture index.

    A plain ``SearchEngine`` is served as it is, never swapped (``LiveEngine.fixed``).
    ``access_log`` adds one JSON log line per request (the ``api.access`` logger, see that
    module; every response carries its ``X-Request-ID`` either way); ``None`` takes
    ``QA_ACCESS_LOG`` from the engine's settings. ``GET /metrics`` is served when
    ``QA_METRICS`` is on (``api.metrics``).
    """
    live = engine if isinstance(engine, LiveEngine) else LiveEngine.fixed(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        live.start()
        try:
            with conversions_stop_on_signals():  # a shutdown does not wait for a conversion
                yield
        finally:
            await asyncio.to_thread(live.stop)  # a refresh under way finishes first

    app = FastAPI(
        title="Svensk QA",
        version=__version__,
        description="Ask in Swedish; get the passages that answer, with exact citations "
        "(document, title, character span).",
        lifespan=lifespan,
        docs_url=None,  # served offline by api.routers.docs
        redoc_url=None,
    )
    settings = live.settings
    app.state.live = live
    add_error_handlers(app)
    modules = (health, search, documents, document_writes, examples, page, docs)
    for module in modules:
        app.include_router(module.router)
    routes = [route for module in modules for route in module.router.routes]
    add_body_limit(app, int(settings.max_request_mb * 2**20),
                   other_limit=int(settings.max_body_kb * 2**10), timeout=settings.body_timeout)
    app.add_middleware(Admission, limit=settings.max_active_requests)
    page.mount_static(app)
    docs.mount_assets(app)
    if settings.metrics:
        add_metrics(app, live)
    install_openapi(app, routes, settings)
    app.add_middleware(Methods, routes=[*routes, *app.router.routes])
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"], max_age=600)
    bound = [] if settings.host in WILDCARD_ADDRESSES else [settings.host]
    app.add_middleware(AllowedHosts, allowed=[*settings.allowed_hosts, *bound])
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog, log_lines=settings.access_log if access_log is None else access_log)
    app.add_middleware(Unpin)
    return app
