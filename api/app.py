"""The FastAPI application, built by a factory around a ready live engine.

The ``LiveEngine`` goes into ``app.state``; each request takes the engine of the generation
served when it starts through the ``api.deps.EngineDep`` dependency (and the holder itself
through ``LiveDep``). The app runs the holder's watcher from start-up to shut-down, so a
newer generation is served without a restart. The routes live in ``api/routers/`` (one
router per resource), the error responses in ``api/errors.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.access import AccessLog
from api.admission import Admission
from api.deps import Unpin
from api.errors import add_error_handlers
from api.limits import add_body_limit
from api.metrics import add_metrics
from api.routers import document_writes, documents, examples, health, page, search
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
            yield
        finally:
            await asyncio.to_thread(live.stop)  # a refresh under way finishes first

    app = FastAPI(
        title="Svensk QA",
        version=__version__,
        description="Ask in Swedish; get the passages that answer, with exact citations "
        "(document, title, character span).",
        lifespan=lifespan,
    )
    app.state.live = live
    add_error_handlers(app)
    for module in (health, search, documents, document_writes, examples, page):
        app.include_router(module.router)
    settings = live.settings
    add_body_limit(app, int(settings.max_request_mb * 2**20),
                   other_limit=int(settings.max_body_kb * 2**10), timeout=settings.body_timeout)
    app.add_middleware(Admission, limit=settings.max_active_requests)
    page.mount_static(app)
    if live.settings.metrics:
        add_metrics(app, live)
    app.add_middleware(AccessLog,
                       log_lines=live.settings.access_log if access_log is None else access_log)
    app.add_middleware(Unpin)
    return app
