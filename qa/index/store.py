"""The passage store: documents and passages in SQLite, row ``i`` = vector ``i``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from qa.ingest.documents import Document
from qa.ingest.passages import Passage
from qa.ingest.structure import Section

_SCHEMA = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, text TEXT NOT NULL,
    fingerprint TEXT NOT NULL, metadata TEXT NOT NULL, sections TEXT NOT NULL
);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, document_id TEXT NOT NULL,
    title TEXT NOT NULL, section TEXT, date TEXT, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX passages_by_document ON passages(document_id);
"""


def write_store(path: Path, documents: Sequence[Document], passages: Sequence[Passage]) -> None:
    """Create a new store file holding exactly these documents and passages, in order."""
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (d.id, d.title, d.date, d.text, d.fingerprint,
                 json.dumps(d.metadata, ensure_ascii=False, default=str),
                 json.dumps([s.__dict__ for s in d.sections], ensure_ascii=False))
                for d in documents
            ),
        )
        con.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((row, p.id, p.document_id, p.title, p.section, p.date, p.start, p.end, p.text)
             for row, p in enumerate(passages)),
        )
        con.commit()
    finally:
        con.close()


class PassageStore:
    """Read access to a store; passages are held in memory (a few hundred bytes each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Read-only, shareable across the server's threads.
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        rows = self._con.execute(
            'SELECT id, document_id, title, section, date, start, "end", text FROM passages '
            "ORDER BY row"
        ).fetchall()
        self.passages: list[Passage] = [Passage(*r) for r in rows]
        self._docs: list[dict[str, Any]] = [
            {"id": i, "title": t, "date": d, "fingerprint": f, "chars": n}
            for i, t, d, f, n in self._con.execute(
                "SELECT id, title, date, fingerprint, length(text) FROM documents ORDER BY rowid"
            )
        ]
        counts: dict[str, int] = {}
        for p in self.passages:
            counts[p.document_id] = counts.get(p.document_id, 0) + 1
        for d in self._docs:
            d["passages"] = counts.get(d["id"], 0)

    def close(self) -> None:
        self._con.close()

    def __len__(self) -> int:
        return len(self.passages)

    def list_documents(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self._docs]

    def document_ids(self) -> list[str]:
        return [d["id"] for d in self._docs]

    def document_texts(self) -> dict[str, str]:
        return dict(self._con.execute("SELECT id, text FROM documents"))

    def get_document(self, doc_id: str) -> Document | None:
        row = self._con.execute(
            "SELECT id, title, date, text, metadata, sections FROM documents WHERE id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return None
        return Document(id=row[0], title=row[1], date=row[2], text=row[3],
                        metadata=json.loads(row[4]),
                        sections=[Section(**s) for s in json.loads(row[5])])

    def documents(self, ids: Iterable[str] | None = None) -> list[Document]:
        wanted = list(ids) if ids is not None else self.document_ids()
        return [d for d in (self.get_document(i) for i in wanted) if d is not None]
