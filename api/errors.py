"""Error responses: every failure is ``{"detail": "<one readable sentence>"}``, never a traceback.

Validation errors are 422 with pydantic's error list turned into one sentence;
a question the engine cannot take is 422, an unknown document 404; anything
unexpected is logged with its traceback and answered 500 ``internal error``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.access import request_id
from qa.errors import CorpusError, QAError
from qa.index.changes import EmptyIndexError, UnknownIdError
from qa.search.engine import QuestionError, UnknownDocumentError

log = logging.getLogger(__name__)


def describe(errors: list[Any]) -> str:
    """One readable sentence from pydantic's error list."""
    parts = []
    for err in errors:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error")
            parts.append("the request body is not valid JSON" + (f" ({reason})" if reason else ""))
        elif err.get("type") == "missing":
            parts.append(f"'{where}' is required")
        elif err.get("type") == "extra_forbidden":
            parts.append(f"unknown field '{where}'")
        else:
            parts.append(f"'{where}': {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _detail(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": message}, headers=headers)


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    return _detail(422, describe(list(exc.errors())))


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return _detail(exc.status_code, detail, getattr(exc, "headers", None))


async def _bad_question(_: Request, exc: QuestionError) -> JSONResponse:
    return _detail(422, str(exc))


async def _unknown_document(_: Request, exc: UnknownDocumentError | UnknownIdError) -> JSONResponse:
    return _detail(404, str(exc))


async def _bad_document(_: Request, exc: CorpusError) -> JSONResponse:
    return _detail(422, str(exc))


async def _conflict(_: Request, exc: EmptyIndexError) -> JSONResponse:
    return _detail(409, str(exc))


async def _busy(_: Request, exc: QAError) -> JSONResponse:
    """A failure the user can act on that no other handler names: another build held the
    index past the lock timeout, an index that cannot be read; nothing was changed."""
    log.warning("%s", exc)
    return _detail(503, str(exc), {"Retry-After": "10"})


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error (request %s)", request_id(request.scope), exc_info=exc)
    return _detail(500, "internal error")


def add_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    # Typed as taking any exception: Starlette's signature wants handlers of ``Exception``,
    # though it calls each only with the class it is registered for.
    handlers: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
        RequestValidationError: _invalid,
        StarletteHTTPException: _http,
        QuestionError: _bad_question,
        UnknownDocumentError: _unknown_document,
        UnknownIdError: _unknown_document,
        CorpusError: _bad_document,
        EmptyIndexError: _conflict,
        QAError: _busy,
        Exception: _crash,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
