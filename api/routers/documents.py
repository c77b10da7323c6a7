"""``GET /api/documents`` and ``GET /api/documents/{id}``: what the index holds, in full."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from api.deps import EngineDep
from api.schemas import DocumentList, DocumentOut, DocumentSummary, ErrorOut, SectionOut

router = APIRouter(tags=["documents"])


@router.get("/api/documents", response_model=DocumentList)
def documents(engine: EngineDep) -> DocumentList:
    return DocumentList(documents=[DocumentSummary(**asdict(d)) for d in engine.documents()])


@router.get("/api/documents/{doc_id}", response_model=DocumentOut, responses={404: {"model": ErrorOut}})
def document(doc_id: str, engine: EngineDep) -> DocumentOut:
    """One document's full original text; an unknown id is a 404 (see ``api.errors``)."""
    doc = engine.document(doc_id)
    return DocumentOut(
        id=doc.id, title=doc.title, date=doc.date, text=doc.text,
        sections=[SectionOut(title=s.title, date=s.date, start=s.start, end=s.end) for s in doc.sections],
        metadata=doc.metadata,
    )
