"""Documents: loading a folder of text files or a JSONL file into one shape."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import CorpusError
from qa.ingest.structure import Layout, Section, analyse

TEXT_SUFFIXES = (".txt", ".md")
_ID = re.compile(r"^[\w.\-]{1,200}$")


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
    if not _ID.match(doc_id):
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


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from None


def load_folder(folder: Path) -> list[Document]:
    """Every ``.txt``/``.md`` file directly in ``folder``; the id is the file stem."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
    if not files:
        raise CorpusError(f"{folder}: no .txt or .md files found")
    docs = []
    for path in files:
        text = _read_text(path)
        if text.strip():
            docs.append(make_document(path.stem, text, source=path.name))
    return docs


def jsonl_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(``file:line``, object) for each non-blank line; a bad line is a clear error."""
    # JSON Lines are split on "\n" only: str.splitlines() would also cut at U+2028 and
    # other separators that JSON strings may hold raw.
    for lineno, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise CorpusError(f"{where}: expected a JSON object")
        yield where, record


def load_jsonl(path: Path) -> list[Document]:
    """One JSON object per line: ``id``, ``text``, optional ``title``/``date``, any metadata."""
    docs: list[Document] = []
    seen: set[str] = set()
    for where, record in jsonl_records(path):
        doc_id, text = record.pop("id", None), record.pop("text", None)
        if isinstance(doc_id, int) and not isinstance(doc_id, bool):
            doc_id = str(doc_id)
        if not isinstance(doc_id, str) or not doc_id:
            raise CorpusError(f"{where}: 'id' must be a non-empty string")
        if not isinstance(text, str):
            raise CorpusError(f"{where}: 'text' must be a string")
        if doc_id in seen:
            raise CorpusError(f"{where}: duplicate id {doc_id!r}")
        seen.add(doc_id)
        title, date = record.pop("title", None), record.pop("date", None)
        if title is not None and not isinstance(title, str):
            raise CorpusError(f"{where}: 'title' must be a string")
        if date is not None and not isinstance(date, str):
            raise CorpusError(f"{where}: 'date' must be a string")
        if text.strip():
            try:
                docs.append(make_document(doc_id, text, title, date, **record))
            except CorpusError as exc:
                raise CorpusError(f"{where}: {exc}") from None
    if not docs:
        raise CorpusError(f"{path}: no documents with text")
    return docs


def load_documents(source: Path) -> list[Document]:
    """Load a corpus from a folder of text files or a ``.jsonl`` file."""
    if not source.exists():
        raise CorpusError(f"{source}: no such file or folder")
    if source.is_dir():
        return load_folder(source)
    if source.suffix.lower() in (".jsonl", ".ndjson"):
        return load_jsonl(source)
    if source.suffix.lower() in TEXT_SUFFIXES:
        return [make_document(source.stem, _read_text(source), source=source.name)]
    raise CorpusError(f"{source}: expected a folder, a .jsonl file, or a .txt/.md file")
