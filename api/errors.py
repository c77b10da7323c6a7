"""Error responses: every failure is ``{"detail": "<one readable sentence>"}``, never a traceback.

One handler answers every ``QAError`` with the status its class carries (``qa.errors``): 4xx
for a request the service cannot take, 503 with ``Retry-After`` only for a condition that
passes by itself, 500 for an installation an operator must mend. Validation errors are 422
with pydantic's error list turned into one sentence; anything unexpected is logged with its
traceback and answered 500 ``internal error``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.access import request_id
from qa.errors import QAError

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


async def _qa_error(request: Request, exc: QAError) -> JSONResponse:
    """Any error a user can act on, with the status its class carries."""
    if exc.status >= 500:
        log.warning("request %s: %s (%s)", request_id(request.scope), exc, type(exc).__name__)
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return _detail(exc.status, str(exc), headers)


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error (request %s)", request_id(request.scope), exc_info=exc)
    return _detail(500, "internal error")


def add_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(QAError, _qa_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _crash)
