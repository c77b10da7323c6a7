"""The FastAPI application, built by a factory around a ready search engine."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import (
    DocumentList,
    DocumentOut,
    ErrorOut,
    Health,
    SearchRequest,
    SearchResponse,
)
from qa.search.engine import MODES, QuestionError, SearchEngine, SearchResult, clean_question

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("qa.api")


def _describe(errors: list[Any]) -> str:
    """One readable sentence from pydantic's error list."""
    parts = []
    for err in errors:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        if err.get("type") == "json_invalid":
            parts.append("the request body is not valid JSON")
        elif err.get("type") == "missing":
            parts.append(f"'{where}' is required")
        elif err.get("type") == "extra_forbidden":
            parts.append(f"unknown field '{where}'")
        else:
            parts.append(f"'{where}': {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def search_body(question: str, result: SearchResult) -> dict[str, Any]:
    """The JSON body of ``POST /api/search`` (shape: ``api.schemas.SearchResponse``)."""
    return {
        "question": question,
        "mode": result.mode,
        "took_ms": round(result.took_ms, 2),
        "no_good_match": result.no_good_match,
        "results": [
            {
                "rank": h.rank, "score": h.score, "similarity": h.similarity,
                "relevance": h.relevance, "passage_id": h.passage.id,
                "document_id": h.passage.document_id, "title": h.passage.title,
                "section": h.passage.section, "date": h.passage.date, "text": h.passage.text,
                "start": h.passage.start, "end": h.passage.end, "highlights": h.highlights,
            }
            for h in result.hits
        ],
    }


def create_app(engine: SearchEngine) -> FastAPI:
    """The API and the chat page over ``engine``; tests pass one built on a fixture index."""
    settings = engine.settings
    app = FastAPI(
        title="Svensk QA",
        version="0.1.0",
        description="Ask in Swedish; get the passages that answer, with exact citations "
        "(document, title, character span).",
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _describe(list(exc.errors()))})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail},
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(status_code=500, content={"detail": "internal error"})

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        m = engine.index.manifest
        return Health(
            status="ok",
            documents=m.documents,
            passages=len(engine.passages),
            model=engine.embedder.model_id,
            query_path=engine.embedder.query_path,
            passage_path=m.passage_path,
            sentence_path=m.sentence_path,
            vector_index=engine.index.vectors.kind,
            built_at=m.built_at,
            max_question_chars=settings.max_question_chars,
            modes=list(MODES),
            default_mode=settings.default_mode,
        )

    @app.post("/api/search", response_model=SearchResponse, tags=["search"],
              responses={422: {"model": ErrorOut}})
    def search(req: SearchRequest) -> Response:
        try:
            question = clean_question(req.question, settings.max_question_chars)
        except QuestionError as exc:
            raise HTTPException(422, str(exc)) from None
        result = engine.search(question, req.k, req.mode)
        # Built and encoded by hand: the schema above documents it, and skipping a second
        # validation pass keeps the service's cost small next to the embedding's.
        body = search_body(question, result)
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")

    @app.get("/api/documents", response_model=DocumentList, tags=["documents"])
    def documents() -> dict[str, Any]:
        return {"documents": engine.index.store.list_documents()}

    @app.get("/api/documents/{doc_id}", response_model=DocumentOut, tags=["documents"],
             responses={404: {"model": ErrorOut}})
    def document(doc_id: str) -> dict[str, Any]:
        doc = engine.index.store.get_document(doc_id)
        if doc is None:
            raise HTTPException(404, f"no document with id '{doc_id}'")
        return {
            "id": doc.id, "title": doc.title, "date": doc.date, "text": doc.text,
            "sections": [s.__dict__ for s in doc.sections], "metadata": doc.metadata,
        }

    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        index_html = STATIC / "index.html"
        if not index_html.is_file():
            raise HTTPException(404, "the chat page is not installed")
        return FileResponse(index_html, media_type="text/html; charset=utf-8")

    return app
