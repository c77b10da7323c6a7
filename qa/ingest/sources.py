"""Reading a corpus: a folder (read recursively), one file, or a JSONL file, into documents.

Each file goes through the reader of its format (``qa.ingest.formats``). A file that cannot be
indexed is never dropped silently: it is listed in ``Corpus.skipped`` with its reason, and the
other files are read on. A document's id is the file's path relative to the folder without its
extension (``kommun/bygglov/taxa``; a top-level file keeps its stem), with every run of
characters an id cannot hold (spaces, for one) turned into ``_``. Two files that would get the
same id are both skipped, each naming the other: which one was meant is not ours to guess.

Files are converted in worker processes (``read_files``, ``qa.ingest.isolation``), several at
once, each within a time budget and a memory ceiling: a reader that hangs, crashes or grows past
the ceiling costs its file (``timed out``, ``crashed``, ``out of memory``), never the build.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import CorpusError
from qa.ingest import formats, isolation
from qa.ingest.converted import Converted, Skip, SkipReason
from qa.ingest.documents import Document, Original, is_valid_id, make_document
from qa.ingest.formats import ReadOptions
from qa.ingest.jsonl import jsonl_records
from qa.settings import IngestSettings

logger = logging.getLogger(__name__)

JSONL_SUFFIXES = (".jsonl", ".ndjson")
_NOT_IN_ID = re.compile(r"[^\w.\-]+")
_PROGRESS_SECONDS = 5.0
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class SkippedFile:
    """A file (or folder) that was not indexed: its path as found, the reason, and detail."""

    path: str
    reason: SkipReason | str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Corpus:
    """What reading a source gave: the documents, and every file that was skipped or warned of."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def formats(self) -> Counter[str]:
        """Documents per format (``Document.format``: pdf, docx, odt, html, md, txt, epub, pptx,
        xlsx, ods, rtf, eml, jsonl)."""
        return Counter(d.format for d in self.documents)


#: What reading one file gives: the document and the reader's warnings, or why it is skipped.
Read = tuple[Document, list[str]] | SkippedFile


def read_corpus(source: Path, options: ReadOptions | None = None, *,
                progress: Callable[[str], None] | None = None) -> Corpus:
    """Read a folder (recursively), one file of a supported format, or a JSONL file.

    A missing source, or a JSONL file with a bad line, is a ``CorpusError``; a bad file in a
    folder is a ``SkippedFile``. ``progress`` gets a line now and then while files are read.
    """
    options = options or ReadOptions()
    if not source.exists():
        raise CorpusError(f"{source}: no such file or folder")
    if source.is_dir():
        return _read_folder(source, options, progress)
    corpus = Corpus()
    if source.suffix.lower() in JSONL_SUFFIXES:
        corpus.documents = load_jsonl(source)
        return corpus
    if formats.format_of(source) is None:
        raise CorpusError(f"{source}: expected a folder, a .jsonl file, or a PDF, DOCX, ODT, "
                          "HTML, Markdown, text, EPUB, PPTX, XLSX, ODS, RTF or .eml file")
    _read_file(source, source.name, _document_id(source.stem), options, corpus)
    return corpus


def read_options(settings: IngestSettings) -> ReadOptions:
    """The readers' limits and OCR choice from the ingest settings."""
    return ReadOptions(max_bytes=int(settings.max_file_mb * 2**20),
                       max_chars=settings.max_document_chars,
                       max_unzipped_bytes=int(settings.max_unzipped_mb * 2**20),
                       max_pages=settings.max_pdf_pages,
                       ocr=settings.ocr, ocr_language=settings.ocr_language,
                       max_seconds_per_file=settings.max_seconds_per_file,
                       ocr_seconds_per_page=settings.ocr_seconds_per_page,
                       max_convert_memory_mb=settings.max_convert_memory_mb,
                       convert_workers=settings.convert_workers)


def load_documents(source: Path, options: ReadOptions | None = None) -> list[Document]:
    """The documents of ``source`` (see ``read_corpus``); none at all is a ``CorpusError``."""
    corpus = read_corpus(source, options)
    if not corpus.documents:
        reasons = "; ".join(str(s) for s in corpus.skipped[:5])
        raise CorpusError(f"{source}: no documents to index" + (f" ({reasons})" if reasons else ""))
    return corpus.documents


def _document_id(relative: str) -> str:
    """The id of a file at ``relative`` (without extension, '/'-separated)."""
    return "/".join(_NOT_IN_ID.sub("_", part).strip("_") or "_" for part in relative.split("/"))


def _walk(folder: Path, corpus: Corpus) -> Iterator[tuple[Path, str]]:
    """(path, relative path) of every file below ``folder``, sorted; hidden entries are listed
    as skipped, symbolic links to folders are not followed."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        for name in sorted(dirs):
            rel = (here / name).relative_to(folder).as_posix()
            if name.startswith("."):
                corpus.skipped.append(SkippedFile(rel + "/", "hidden", "hidden folder, not read"))
            elif (here / name).is_symlink():
                corpus.skipped.append(SkippedFile(rel + "/", "unsupported type",
                                                  "link to a folder, not followed"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            rel = path.relative_to(folder).as_posix()
            if name.startswith("."):
                corpus.skipped.append(SkippedFile(rel, "hidden", "hidden file"))
            else:
                yield path, rel


def _read_folder(folder: Path, options: ReadOptions,
                 progress: Callable[[str], None] | None) -> Corpus:
    corpus = Corpus()
    found = list(_walk(folder, corpus))
    ids: dict[str, list[str]] = {}
    for _, rel in found:
        ids.setdefault(_file_id(rel), []).append(rel)
    # Each file's place in ``found``: a clash of ids, a JSONL file (read here, by our own
    # code), or a file for the readers (converted in worker processes, in parallel).
    clashes: dict[int, SkippedFile] = {}
    to_convert: list[tuple[Path, str, str | None]] = []
    converted_at: dict[int, int] = {}
    for n, (path, rel) in enumerate(found):
        doc_id = _file_id(rel)
        others = [r for r in ids[doc_id] if r != rel]
        if others:
            clashes[n] = SkippedFile(rel, "duplicate id", f"{doc_id!r} is also the id of "
                                     + ", ".join(others))
        elif path.suffix.lower() not in JSONL_SUFFIXES:
            converted_at[n] = len(to_convert)
            to_convert.append((path, rel, doc_id))
    counts = {"read": len(found) - len(to_convert), "documents": 0, "skipped": len(clashes)}
    last = time.monotonic()

    def on_read(_: int, read: Read) -> None:
        nonlocal last
        counts["read"] += 1
        counts["skipped" if isinstance(read, SkippedFile) else "documents"] += 1
        if progress is not None and time.monotonic() - last >= _PROGRESS_SECONDS:
            progress(f"read {counts['read']}/{len(found)} files ({counts['documents']} documents, "
                     f"{counts['skipped']} skipped)")
            last = time.monotonic()

    reads = read_files(to_convert, options, on_read=on_read)
    for n, (path, rel) in enumerate(found):
        if n in clashes:
            corpus.skipped.append(clashes[n])
        elif n in converted_at:
            _add(reads[converted_at[n]], rel, corpus)
        else:
            _read_jsonl_in_folder(path, rel, corpus)
    _drop_duplicate_records(corpus)
    return corpus


def _drop_duplicate_records(corpus: Corpus) -> None:
    """Ids taken twice across files and JSONL records: every document with such an id is
    skipped, each naming the others (file ids clash earlier, before anything is read)."""
    sources: dict[str, list[str]] = {}
    for doc in corpus.documents:
        sources.setdefault(doc.id, []).append(str(doc.metadata.get("source", doc.id)))
    kept: list[Document] = []
    for doc in corpus.documents:
        names = sources[doc.id]
        if len(names) == 1:
            kept.append(doc)
            continue
        mine = str(doc.metadata.get("source", doc.id))
        corpus.skipped.append(SkippedFile(mine, "duplicate id", f"{doc.id!r} is also the id of "
                                          + ", ".join(n for n in names if n != mine)))
    corpus.documents = kept


def document_id_of(name: str) -> str:
    """The document id a file at ``name`` (relative path or file name) gets."""
    return _file_id(name)


def _file_id(rel: str) -> str:
    parent, _, name = rel.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return _document_id(f"{parent}/{stem}" if parent else stem)


def _read_file(path: Path, rel: str, doc_id: str, options: ReadOptions, corpus: Corpus) -> None:
    """Convert one file into a document of ``corpus``, or list it as skipped."""
    if path.suffix.lower() in JSONL_SUFFIXES:
        _read_jsonl_in_folder(path, rel, corpus)
        return
    _add(read_file(path, rel, doc_id, options), rel, corpus)


def _add(read: Read, rel: str, corpus: Corpus) -> None:
    if isinstance(read, SkippedFile):
        corpus.skipped.append(read)
        return
    doc, warnings = read
    corpus.documents.append(doc)
    corpus.warnings.extend(f"{rel}: {w}" for w in warnings)


def read_file(path: Path, name: str, doc_id: str | None = None,
              options: ReadOptions | None = None) -> Read:
    """One file as a document (with the reader's warnings), or why it is skipped.

    ``name`` is how the file is named to the user (its path in the folder read, or an
    uploaded file's name); ``doc_id`` defaults to the id ``name`` gives (see the module).
    The file is converted in a worker process (see ``read_files``).
    """
    return read_files([(path, name, doc_id)], options)[0]


def read_files(files: Sequence[tuple[Path, str, str | None]], options: ReadOptions | None = None,
               *, on_read: Callable[[int, Read], None] | None = None) -> list[Read]:
    """``read_file`` for each ``(path, name, doc_id)``, in that order, converted in parallel.

    The readers run in worker processes (``qa.ingest.isolation``), at most
    ``options.convert_workers`` at once (0 = one per CPU), each file within
    ``options.max_seconds_per_file`` (plus ``options.ocr_seconds_per_page`` per page it
    recognises) and ``options.max_convert_memory_mb``: a file whose reader hangs, crashes or
    grows past the ceiling is skipped as ``timed out``, ``crashed`` or ``out of memory``, and the
    others are read on. ``on_read(index, read)`` is called as each file is done. Raises
    ``ConversionStopped`` when the pool is stopped (a server shutting down).
    """
    options = options or ReadOptions()
    reads: list[Read | None] = [None] * len(files)
    calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
    at: list[tuple[int, str]] = []  # call → (index in files, document id)
    for i, (path, name, doc_id) in enumerate(files):
        doc_id = doc_id if doc_id is not None else _file_id(name)
        if is_valid_id(doc_id):
            calls.append((convert_or_skip, (path, options)))
            at.append((i, doc_id))
            continue
        skipped = SkippedFile(name, "invalid id", f"{doc_id!r}: over 200 characters or not a "
                              "path of letters, digits, '.', '_' and '-'")
        reads[i] = skipped
        if on_read is not None:
            on_read(i, skipped)

    def done(k: int, outcome: isolation.Outcome) -> None:
        i, doc_id = at[k]
        path, name, _ = files[i]
        reads[i] = read = _document(outcome, path, name, doc_id)
        if on_read is not None:
            on_read(i, read)

    isolation.Pool(conversion_limits(options)).run(calls, done)
    return [read for read in reads if read is not None]


def conversion_limits(options: ReadOptions) -> isolation.Limits:
    """The worker pool's limits from the readers' options."""
    return isolation.Limits(seconds=options.max_seconds_per_file,
                            memory_bytes=int(options.max_convert_memory_mb * 2**20),
                            workers=options.convert_workers)


def convert_or_skip(path: Path, options: ReadOptions) -> Converted | tuple[str, str]:
    """``formats.convert`` in a worker: the ``Converted``, or a ``Skip``'s (reason, detail)
    (an exception of our own does not travel back whole through pickling)."""
    try:
        return formats.convert(path, options)
    except Skip as skip:
        return skip.reason, skip.detail


def _document(outcome: isolation.Outcome, path: Path, name: str, doc_id: str) -> Read:
    """What a worker's outcome for the file at ``path`` becomes: a document, or a skip."""
    if isinstance(outcome, isolation.Failed):
        reason = "corrupt" if outcome.reason == "error" else outcome.reason
        return SkippedFile(name, reason, outcome.detail)
    converted = outcome.value
    if isinstance(converted, tuple):
        return SkippedFile(name, *converted)
    try:
        if not converted.text.strip():
            raise Skip("empty", "no text")
        original = _original(path, name, converted.metadata.get("encoding"))
        doc = make_document(doc_id, converted.text, converted.title, converted.date,
                            format=converted.format, blocks=converted.blocks,
                            pages=converted.pages, original=original,
                            metadata={"source": name, **converted.metadata})
    except Skip as skip:
        return SkippedFile(name, skip.reason, skip.detail)
    except (CorpusError, OSError) as exc:
        return SkippedFile(name, "unreadable", str(exc))
    except Exception as exc:  # a bug of ours must not stop the other files
        logger.exception("%s: unexpected error while reading", name)
        return SkippedFile(name, "corrupt", f"{type(exc).__name__}: {exc}")
    return doc, list(converted.warnings)


def _original(path: Path, name: str, encoding: str | None) -> Original:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Original(name, formats.content_type(name, encoding), size, digest.hexdigest(),
                    source=path)


def _read_jsonl_in_folder(path: Path, rel: str, corpus: Corpus) -> None:
    try:
        docs = load_jsonl(path)
        for doc in docs:
            doc.metadata.setdefault("source", f"{rel} (id {doc.id})")
        corpus.documents.extend(docs)
    except CorpusError as exc:
        corpus.skipped.append(SkippedFile(rel, "unreadable", str(exc).removeprefix(f"{path}:").strip()))


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
        return make_document(doc_id, text, fields["title"], fields["date"], format="jsonl",
                             metadata=record)
    except CorpusError as exc:
        raise CorpusError(f"{where}: {exc}") from None
