"""The FastAPI application, built by a factory around a ready search engine.

The engine goes into ``app.state`` and reaches each route through the
``api.deps.EngineDep`` dependency; the routes live in ``api/routers/`` (one
router per resource), the error responses in ``api/errors.py``.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.access import AccessLog
from api.errors import add_error_handlers
from api.limits import add_body_limit
from api.routers import document_writes, documents, examples, health, page, search
from qa import __version__
from qa.search.engine import SearchEngine


def create_app(engine: SearchEngine, *, access_log: bool | None = None) -> FastAPI:
    """The API and the chat page over ``engine``; tests pass one built on a fixture index.

    ``access_log`` adds one log line per request (the ``api.access`` logger, see
    that module); ``None`` takes ``QA_ACCESS_LOG`` from the engine's settings.
    """
    app = FastAPI(
        title="Svensk QA",
        version=__version__,
        description="Ask in Swedish; get the passages that answer, with exact citations "
        "(document, title, character span).",
    )
    app.state.engine = engine
    add_error_handlers(app)
    for module in (health, search, documents, document_writes, examples, page):
        app.include_router(module.router)
    add_body_limit(app, int(engine.settings.max_request_mb * 2**20))
    page.mount_static(app)
    if engine.settings.access_log if access_log is None else access_log:
        app.add_middleware(AccessLog)
    return app
