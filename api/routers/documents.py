"""``GET /api/documents``, ``GET /api/documents/{id}`` and ``GET /api/documents/{id}/original``.

Ids may hold ``/`` (documents read from subfolders: ``kommun/bygglov/taxa``), so the id is a
path parameter. A document whose id itself ends in ``/original`` is still reachable: when
``{id}`` is not a document but ``{id}/original`` is, that document is returned.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse, JSONResponse, Response

from api.auth import require_reader
from api.deps import EngineDep, ServedDep
from api.schemas import (
    ID_MAX_LENGTH,
    ID_PATTERN,
    BlockOut,
    DocumentList,
    DocumentOut,
    DocumentSummary,
    OriginalOut,
    PageOut,
    SectionOut,
    error_responses,
)
from qa.errors import UnknownDocumentError
from qa.ingest.documents import Document
from qa.search.engine import SearchEngine

router = APIRouter(tags=["documents"], dependencies=[Depends(require_reader)])

# Originals that a browser would run as part of this site are downloaded, never shown inline.
_INLINE = ("application/pdf", "text/plain")

#: The ``{doc_id}`` of a path, as the OpenAPI document describes it (an id that breaks the rule
#: is simply not found: 404, or a 422 where it would be written).
DocId = Annotated[str, Path(
    description="A document id (as in /api/documents); it may hold '/' (kommun/bygglov/taxa), "
    "sent as is or as %2F.", examples=["004_61a7695175b3d7f3"],
    json_schema_extra={"pattern": ID_PATTERN, "maxLength": ID_MAX_LENGTH})]


@router.get("/api/documents", response_model=DocumentList, responses=error_responses(401))
def documents(engine: EngineDep) -> DocumentList:
    """The indexed documents: id, title, date, length, passages, format and pages."""
    return DocumentList(documents=[DocumentSummary(**asdict(d)) for d in engine.documents()])


@router.get("/api/documents/{doc_id:path}/original", response_class=FileResponse,
            responses={200: {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}},
                                         "application/json": {"schema": {
                                             "$ref": "#/components/schemas/DocumentOut"}}},
                             "description": "The file as it was read, with its content type "
                             "(PDF and plain text inline, others as attachments). For a document "
                             "whose own id ends in '/original' (and no document with the id "
                             "before it), that document as JSON."},
                       **error_responses(401, 404, 422)})
def original(doc_id: DocId, engine: EngineDep, served: ServedDep) -> Response:
    """The original file of a document; 404 for an unknown id or one without a file."""
    try:
        found = engine.original(doc_id)
    except UnknownDocumentError:
        if _exists(engine, f"{doc_id}/original"):
            return JSONResponse(_document_out(engine.document(f"{doc_id}/original"),
                                              served.api).model_dump())
        raise
    inline = found.media_type.split(";")[0] in _INLINE
    return FileResponse(
        found.path, media_type=found.media_type, filename=found.filename.rsplit("/", 1)[-1],
        content_disposition_type="inline" if inline else "attachment",
        # Shown inline or not, the file never runs scripts in this site's origin.
        headers={"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/api/documents/{doc_id:path}", response_model=DocumentOut,
            responses=error_responses(401, 404, 422))
def document(doc_id: DocId, engine: EngineDep, served: ServedDep) -> DocumentOut:
    """One document's full text with its structure; an unknown id is a 404 (see ``api.errors``)."""
    return _document_out(engine.document(doc_id), served.api)


def _exists(engine: SearchEngine, doc_id: str) -> bool:
    try:
        engine.document(doc_id)
    except UnknownDocumentError:
        return False
    return True


def _document_out(doc: Document, api: str) -> DocumentOut:
    """``doc`` as the API gives it; ``api``: where the API it is served under lives (``/api`` or
    a collection's), for the link to its original."""
    original = None
    if doc.original is not None:
        original = OriginalOut(filename=doc.original.filename, media_type=doc.original.media_type,
                               size=doc.original.size,
                               url=f"{api}/documents/{quote(doc.id)}/original")
    return DocumentOut(
        id=doc.id, title=doc.title, date=doc.date, format=doc.format, text=doc.text,
        sections=[SectionOut(title=s.title, date=s.date, start=s.start, end=s.end)
                  for s in doc.sections],
        blocks=[BlockOut(kind=b.kind, start=b.start, end=b.end, level=b.level)
                for b in doc.outline()],
        pages=[PageOut(number=p.number, start=p.start, end=p.end) for p in doc.pages],
        original=original, metadata=doc.metadata,
    )
