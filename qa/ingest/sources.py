"""Reading a corpus: a folder of text files, one text file, or a JSONL file, into documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.errors import CorpusError
from qa.ingest.documents import Document, make_document
from qa.ingest.jsonl import jsonl_records, read_text

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


def load_documents(source: Path) -> list[Document]:
    """Load a corpus from a folder of text files, a ``.txt``/``.md`` file or a ``.jsonl`` file."""
    if not source.exists():
        raise CorpusError(f"{source}: no such file or folder")
    if source.is_dir():
        return load_folder(source)
    if source.suffix.lower() in JSONL_SUFFIXES:
        return load_jsonl(source)
    if source.suffix.lower() in TEXT_SUFFIXES:
        return [make_document(source.stem, read_text(source), source=source.name)]
    raise CorpusError(f"{source}: expected a folder, a .jsonl file, or a .txt/.md file")


def load_folder(folder: Path) -> list[Document]:
    """Every ``.txt``/``.md`` file directly in ``folder``; the id is the file stem."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
    if not files:
        raise CorpusError(f"{folder}: no .txt or .md files found")
    docs = []
    for path in files:
        text = read_text(path)
        if text.strip():
            docs.append(make_document(path.stem, text, source=path.name))
    return docs


def load_jsonl(path: Path) -> list[Document]:
    """One JSON object per line: ``id``, ``text``, optional ``title``/``date``, any metadata."""
    docs: list[Document] = []
    seen: set[str] = set()
    for where, record in jsonl_records(path):
        doc = _record_document(where, record, seen)
        if doc is not None:
            docs.append(doc)
    if not docs:
        raise CorpusError(f"{path}: no documents with text")
    return docs


def _record_document(where: str, record: dict[str, Any], seen: set[str]) -> Document | None:
    """The document of one JSONL record (None when its text is blank); a bad field is an error."""
    doc_id, text = record.pop("id", None), record.pop("text", None)
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id:
        raise CorpusError(f"{where}: 'id' must be a non-empty string")
    if doc_id in seen:
        raise CorpusError(f"{where}: duplicate id {doc_id!r}")
    seen.add(doc_id)
    fields = {"text": text, "title": record.pop("title", None), "date": record.pop("date", None)}
    for name, value in fields.items():
        if not (isinstance(value, str) or (value is None and name != "text")):
            raise CorpusError(f"{where}: {name!r} must be a string")
    if not text.strip():
        return None
    try:
        return make_document(doc_id, text, fields["title"], fields["date"], **record)
    except CorpusError as exc:
        raise CorpusError(f"{where}: {exc}") from None
