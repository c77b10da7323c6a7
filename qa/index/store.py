"""The passage store: documents and passages in SQLite, row ``i`` = vector ``i``.

A passage's text is exactly its document's ``text[start:end]``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.ingest.converted import Block, PageSpan
from qa.ingest.documents import Document, Original, make_document
from qa.ingest.passages import Passage
from qa.ingest.structure import Section

_SCHEMA = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, text TEXT NOT NULL,
    fingerprint TEXT NOT NULL, metadata TEXT NOT NULL, sections TEXT NOT NULL,
    format TEXT NOT NULL, structure TEXT NOT NULL, original TEXT
);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, document_id TEXT NOT NULL,
    title TEXT NOT NULL, section TEXT, date TEXT, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, page INTEGER, page_end INTEGER
);
CREATE INDEX passages_by_document ON passages(document_id);
"""


def write_store(path: Path, documents: Sequence[Document], passages: Sequence[Passage]) -> None:
    """Create a new store file holding exactly these documents and passages, in order."""
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (d.id, d.title, d.date, d.text, d.fingerprint,
                 json.dumps(d.metadata, ensure_ascii=False, default=str),
                 json.dumps([s.__dict__ for s in d.sections], ensure_ascii=False),
                 d.format, _structure_json(d),
                 json.dumps(d.original.to_json(), ensure_ascii=False) if d.original else None)
                for d in documents
            ),
        )
        con.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((row, p.id, p.document_id, p.title, p.section, p.date, p.start, p.end, p.text,
              p.page, p.page_end)
             for row, p in enumerate(passages)),
        )
        con.commit()
    finally:
        con.close()


@dataclass(frozen=True)
class DocumentSummary:
    """What a list of the indexed documents shows of each."""

    id: str
    title: str
    date: str | None
    chars: int
    passages: int
    format: str
    pages: int | None  # documents with pages (PDF); None for the others


class PassageStore:
    """Read access to a store; passages are held in memory (a few hundred bytes each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Read-only, shareable across the server's threads.
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        # A passage's text is cut from its document's (SQLite counts code points, as Python
        # does), so an index written when passages stored their text with whitespace
        # collapsed serves the exact text too.
        rows = self._con.execute(
            "SELECT p.id, p.document_id, p.title, p.section, p.date, p.start, p.\"end\", "
            "coalesce(substr(d.text, p.start + 1, p.\"end\" - p.start), p.text), p.page, p.page_end "
            "FROM passages p LEFT JOIN documents d ON d.id = p.document_id ORDER BY p.row"
        ).fetchall()
        self.passages: list[Passage] = [Passage(*r) for r in rows]
        self._rows: dict[str, list[int]] = {}
        for row, p in enumerate(self.passages):
            self._rows.setdefault(p.document_id, []).append(row)
        self._fingerprints: dict[str, str] = {}
        self._summaries: list[DocumentSummary] = []
        for i, t, d, f, n, fmt, pages in self._con.execute(
            "SELECT id, title, date, fingerprint, length(text), format, "
            "json_array_length(structure, '$.pages') FROM documents ORDER BY rowid"
        ):
            self._fingerprints[i] = f
            self._summaries.append(DocumentSummary(i, t, d, n, len(self._rows.get(i, ())), fmt,
                                                   pages or None))

    def close(self) -> None:
        self._con.close()

    def __len__(self) -> int:
        return len(self.passages)

    def passages_per_document(self) -> dict[str, int]:
        """How many passages each document was cut into (documents without text are absent)."""
        return {doc: len(rows) for doc, rows in self._rows.items()}

    def rows_of(self, doc_id: str) -> list[int]:
        """The rows of the document's passages, in document order."""
        return list(self._rows.get(doc_id, ()))

    def fingerprint(self, doc_id: str) -> str | None:
        """The content hash the document had when stored; None if it is not stored."""
        return self._fingerprints.get(doc_id)

    def summaries(self) -> list[DocumentSummary]:
        return list(self._summaries)

    def list_documents(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self._summaries]

    def document_ids(self) -> list[str]:
        return [s.id for s in self._summaries]

    def document_texts(self) -> dict[str, str]:
        return dict(self._con.execute("SELECT id, text FROM documents"))

    def section_spans(self) -> dict[str, list[tuple[int, int, str]]]:
        """Each document's titled sections as ``(start, end, title)``, outer first (documents
        without one are absent): what a citation names for an answer inside a passage."""
        out: dict[str, list[tuple[int, int, str]]] = {}
        for doc, raw in self._con.execute(
                "SELECT id, sections FROM documents WHERE sections != '[]' ORDER BY rowid"):
            spans = [(int(s["start"]), int(s["end"]), s["title"]) for s in json.loads(raw)
                     if s.get("title")]
            if spans:
                out[doc] = spans
        return out

    def list_items(self) -> dict[str, list[tuple[int, int]]]:
        """Each document's list-item blocks as ``(start, end)``, in order (documents whose
        structure has none are absent; plain text marks its lists in the text itself)."""
        out: dict[str, list[tuple[int, int]]] = {}
        for doc, start, end in self._con.execute(
            "SELECT d.id, json_extract(b.value, '$[1]'), json_extract(b.value, '$[2]') "
            "FROM documents d, json_each(d.structure, '$.blocks') b "
            "WHERE json_extract(b.value, '$[0]') = 'list_item' ORDER BY d.rowid, b.key"
        ):
            out.setdefault(doc, []).append((int(start), int(end)))
        return out

    def document_facets(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Each document's id, format and metadata, in indexing order (what filters test)."""
        return [(i, f, json.loads(m)) for i, f, m in self._con.execute(
            "SELECT id, format, metadata FROM documents ORDER BY rowid")]

    def get_document(self, doc_id: str) -> Document | None:
        row = self._con.execute(
            "SELECT id, title, date, text, metadata, sections, format, structure, original "
            "FROM documents WHERE id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return None
        structure = json.loads(row[7])
        return Document(id=row[0], title=row[1], date=row[2], text=row[3],
                        metadata=json.loads(row[4]),
                        sections=[Section(**s) for s in json.loads(row[5])],
                        format=row[6],
                        blocks=[Block(*b) for b in structure["blocks"]],
                        pages=[PageSpan(*p) for p in structure["pages"]],
                        original=Original(**json.loads(row[8])) if row[8] else None)

    def original(self, doc_id: str) -> Original | None:
        """What is known of the document's original file; None if it has none or is unknown."""
        row = self._con.execute("SELECT original FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return Original(**json.loads(row[0])) if row and row[0] else None

    def documents(self, ids: Iterable[str] | None = None) -> list[Document]:
        wanted = list(ids) if ids is not None else self.document_ids()
        return [d for d in (self.get_document(i) for i in wanted) if d is not None]


def _structure_json(doc: Document) -> str:
    return json.dumps({"blocks": [[b.kind, b.start, b.end, b.level] for b in doc.blocks],
                       "pages": [[p.number, p.start, p.end] for p in doc.pages]})


def reanalyse(documents: Iterable[Document]) -> list[Document]:
    """Stored documents analysed again from their text, structure and metadata, as a new build
    sees them."""
    return [make_document(d.id, d.text, d.title, d.date, format=d.format, blocks=d.blocks,
                          pages=d.pages, original=d.original, metadata=d.metadata) for d in documents]
