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
import logging
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
from api.rate import PerConnection
from api.routers import (
    docs,
    document_writes,
    documents,
    examples,
    feedback,
    gaps,
    health,
    page,
    search,
)
from api.server import conversions_stop_on_signals
from qa import __version__
from qa.questionlog.log import QuestionLog
from qa.search.engine import SearchEngine
from qa.search.live import LiveEngine
from qa.settings import Settings

logger = logging.getLogger(__name__)


def create_app(engine: LiveEngine | SearchEngine, settings: Settings | None = None, *,
               access_log: bool | None = None) -> FastAPI:
    """The API and the chat page over ``engine``; tests pass one built on a fixture index.

    With ``QA_QUESTION_LOG`` on, questions are logged, masked, in the index directory
    (``qa.questionlog``), and expired log files are deleted at start and every
    ``QA_QUESTION_LOG_PRUNE_SECONDS`` while the app runs.

    A plain ``SearchEngine`` is served as it is, never swapped (``LiveEngine.fixed``), with
    ``settings`` (the whole configuration; ``None``: the environment's); a ``LiveEngine``
    brings its own. The app reads the ``server`` and ``limits`` groups. ``access_log`` adds
    one JSON log line per request (the ``api.access`` logger, see that module; every response
    carries its ``X-Request-ID`` either way); ``None`` takes ``QA_ACCESS_LOG``. ``GET
    /metrics`` is served when ``QA_METRICS`` is on (``api.metrics``).
    """
    if isinstance(engine, LiveEngine):
        live = engine
    else:
        live = LiveEngine.fixed(engine, settings if settings is not None else Settings())

    server, limits = live.settings.server, live.settings.limits
    question_log = (QuestionLog.of_index(live.index_dir, server.question_log_days)
                    if server.question_log else None)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        live.start()
        pruning = (asyncio.create_task(_prune_periodically(
            question_log, server.question_log_prune_seconds)) if question_log else None)
        try:
            with conversions_stop_on_signals():  # a shutdown does not wait for a conversion
                yield
        finally:
            if pruning is not None:
                pruning.cancel()
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
    app.state.live = live
    app.state.question_log = question_log
    app.state.feedback_allowance = PerConnection(limits.feedback_per_minute)
    add_error_handlers(app)
    modules = (health, search, feedback, gaps, documents, document_writes, examples, page, docs)
    for module in modules:
        app.include_router(module.router)
    routes = [route for module in modules for route in module.router.routes]
    add_body_limit(app, int(limits.max_request_mb * 2**20),
                   other_limit=int(limits.max_body_kb * 2**10), timeout=limits.body_timeout)
    app.add_middleware(Admission, limit=limits.max_active_requests)
    page.mount_static(app)
    docs.mount_assets(app)
    if server.metrics:
        add_metrics(app, live)
    install_openapi(app, routes, server, limits)
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


async def _prune_periodically(log: QuestionLog, seconds: float) -> None:
    """Delete the question log's expired day files now and every ``seconds``; a failure is
    logged and tried again next time (the task never dies of it)."""
    while True:
        try:
            await asyncio.to_thread(log.prune)
        except OSError as exc:
            logger.warning("could not delete expired question-log files of %s: %s",
                           log.collection, exc)
        await asyncio.sleep(seconds)
