"""A document: its exact text, title, date, sections and metadata, and what makes a valid id."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from qa.errors import CorpusError
from qa.ingest.structure import Layout, Section, analyse

_ID = re.compile(r"^[\w.\-]{1,200}$")


def is_valid_id(doc_id: str) -> bool:
    """1-200 letters, digits, '.', '_' or '-': safe in URLs, file names and citations."""
    return bool(_ID.match(doc_id))


@dataclass
class Document:
    """A source document; ``text`` is kept exactly as read so offsets stay exact."""

    id: str
    text: str
    title: str
    date: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    layout: Layout | None = field(default=None, repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        """Content hash: an unchanged document need not be embedded again."""
        payload = json.dumps([self.id, self.title, self.text], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def make_document(
    doc_id: str, text: str, title: str | None = None, date: str | None = None, **metadata: Any
) -> Document:
    """Build a document, deriving title, date and sections from its text where not given."""
    if not is_valid_id(doc_id):
        raise CorpusError(
            f"invalid document id {doc_id!r}: use 1-200 letters, digits, '.', '_' or '-'"
        )
    layout = analyse(text)
    meta = {**layout.metadata, **metadata}
    return Document(
        id=doc_id,
        text=text,
        title=(title or layout.title or doc_id).strip(),
        date=date or layout.date,
        metadata=meta,
        sections=layout.sections,
        layout=layout,
    )
