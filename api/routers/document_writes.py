"""``POST /api/documents``, ``PUT /api/documents/{id}``, ``DELETE /api/documents/{id}``.

Writes need the admin token (``api.auth``) and bodies within ``QA_MAX_REQUEST_MB``
(``api.limits``). A body is either ``multipart/form-data`` with one or more files in the field
``files`` (any format ``qa build`` reads; the id is the file name without its extension), or a
JSON document (``api.schemas.DocumentIn``). Each change is one build of the served index
(``qa.index.changes``), run off the event loop; the server then serves the new generation
before it answers, so the next request finds the change.
"""

from __future__ import annotations

import functools
import shutil
import threading
import weakref
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import require_admin
from api.deps import EngineDep, LiveDep
from api.errors import describe
from api.routers.documents import DocId
from api.schemas import ChangesOut, DocumentChange, DocumentFields, DocumentIn, error_responses
from qa.index import incoming
from qa.index.changes import ChangeReport, Changes
from qa.index.plan import PassageEncoder
from qa.ingest.documents import is_valid_id
from qa.search.live import LiveEngine
from qa.settings import Settings

# Every route here writes, or checks the admin token for the page: the token is the router's.
router = APIRouter(tags=["documents"], dependencies=[Depends(require_admin)])

_ERRORS = error_responses(401, 403, 413, 415, 422, 503)
_MAX_FILES = 1000


def _body(json_schema: str, max_files: int) -> dict[str, Any]:
    """The request body of a write, for the OpenAPI document (the route reads it itself)."""
    files = {"type": "array", "items": {"type": "string", "format": "binary"},
             "minItems": 1, "maxItems": max_files,
             "description": "The files (any format qa build reads). A file's id is its file name "
             "without the extension; a file that cannot be indexed is reported as skipped."}
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["files"],
                                           "properties": {"files": files}}},
        "application/json": {"schema": {"$ref": f"#/components/schemas/{json_schema}"}},
    }}}


def _changes(request: Request, live: LiveEngine) -> Changes:
    """The one ``Changes`` of the index directory ``live`` serves (made on its first write).

    Kept per live engine (a service of collections has one each; a collection removed and made
    anew gets a new one), all sharing one build encoder, loaded on the first write of any.
    """
    state = request.app.state
    registry: weakref.WeakKeyDictionary[LiveEngine, Changes] | None = getattr(
        state, "changes", None)
    if registry is None:
        registry = state.changes = weakref.WeakKeyDictionary()
    changes = registry.get(live)
    if changes is None:
        changes = registry[live] = Changes(live.index_dir, live.settings,
                                           functools.partial(_build_encoder, state, live.settings))
    return changes


_ENCODER_LOCK = threading.Lock()


def _build_encoder(state: Any, settings: Settings) -> PassageEncoder:
    """The app's one build encoder (``state.build_encoder``), loaded on first use; the
    embedding settings are the service's, the same for every collection."""
    with _ENCODER_LOCK:
        built: PassageEncoder | None = getattr(state, "build_encoder", None)
        if built is None:
            from qa.embed.build_encoder import open_build_encoder

            loaded = open_build_encoder(settings.embed)
            loaded.load(sentences=settings.index.sentence_vectors)
            built = state.build_encoder = loaded
        return built


async def _serve_new(live: LiveEngine, report: ChangeReport) -> ChangesOut:
    """Swap the served generation to the one just published (``LiveEngine.refresh``), then
    answer."""
    await run_in_threadpool(live.refresh)
    return ChangesOut(documents=[DocumentChange(id=c.id, file=c.file, status=c.status,
                                                reason=c.reason) for c in report.changes],
                      generation=report.generation)


async def _write(request: Request, engine: EngineDep, live: LiveEngine,
                 doc_id: str | None) -> ChangesOut:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    changes = _changes(request, live)
    if kind == "multipart/form-data":
        with incoming.upload_folder(engine.index.dir) as folder:
            files = await _saved_files(request, folder)
            if doc_id is not None and len(files) != 1:
                raise HTTPException(422, "PUT /api/documents/{id} takes exactly one file")
            report = await run_in_threadpool(changes.add_files, files, doc_id=doc_id)
        return await _serve_new(live, report)
    if kind == "application/json":
        model = DocumentIn if doc_id is None else DocumentFields
        try:
            body = model.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPException(422, describe(list(exc.errors()))) from None
        if doc_id is not None and body.id not in (None, doc_id):
            raise HTTPException(422, f"the body's id {body.id!r} is not the path's {doc_id!r}")
        report = await run_in_threadpool(changes.add_record, body.model_dump(), doc_id=doc_id)
        return await _serve_new(live, report)
    raise HTTPException(415, "send multipart/form-data with files in the field 'files', or a "
                             "JSON document {\"id\", \"text\", \"title\"?, \"date\"?, \"metadata\"?}")


async def _saved_files(request: Request, folder: Path) -> list[tuple[str, Path]]:
    """The uploaded files of field ``files``, written to ``folder`` under names made here
    (``incoming.safe_name``): the client's name is only shown and made into an id."""
    form = await request.form(max_files=_MAX_FILES)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        raise HTTPException(422, "no files: send them in the multipart field 'files'")
    saved: list[tuple[str, Path]] = []
    for n, upload in enumerate(uploads):
        name = PurePosixPath((upload.filename or "").replace("\\", "/")).name
        if not name or name in (".", ".."):
            raise HTTPException(422, f"file {n + 1} has no file name")
        path = folder / incoming.safe_name(n + 1, name)
        with path.open("xb") as out:
            shutil.copyfileobj(upload.file, out)
        saved.append((name, path))
    await form.close()
    return saved


@router.get("/api/admin", status_code=204, responses=error_responses(401, 403))
async def admin() -> Response:
    """204 when the bearer token is the admin token (the page checks a key with it); 401 when
    it is not, 403 when writing over HTTP is off. Changes nothing."""
    return Response(status_code=204)


@router.post("/api/documents", response_model=ChangesOut, responses=_ERRORS,
             openapi_extra=_body("DocumentIn", _MAX_FILES))
async def add_documents(request: Request, engine: EngineDep, live: LiveDep) -> ChangesOut:
    """Add documents (or replace those with the same id): files, or one JSON document.

    Answers once the new generation is served, so the next question finds the change.
    """
    return await _write(request, engine, live, None)


@router.put("/api/documents/{doc_id:path}", response_model=ChangesOut, responses=_ERRORS,
            openapi_extra=_body("DocumentFields", 1))
async def replace_document(doc_id: DocId, request: Request, engine: EngineDep,
                           live: LiveDep) -> ChangesOut:
    """Replace (or add) the document ``doc_id`` with one file or a JSON document.

    A JSON body may repeat the id; another id than the path's is a 422, and so is a path whose
    id breaks the id rule (before the body is read).
    """
    if not is_valid_id(doc_id):
        raise HTTPException(422, f"invalid document id {doc_id!r}: use 1-200 letters, digits, "
                                 "'.', '_', '-' and '/' between folder names")
    return await _write(request, engine, live, doc_id)


@router.delete("/api/documents/{doc_id:path}", response_model=ChangesOut,
               responses=error_responses(401, 403, 404, 409, 422, 503))
async def delete_document(doc_id: DocId, request: Request, live: LiveDep) -> ChangesOut:
    """Delete the document ``doc_id``; 404 if the index does not hold it."""
    report = await run_in_threadpool(_changes(request, live).delete, doc_id)
    return await _serve_new(live, report)
