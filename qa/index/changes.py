"""Changes to an index while it is served: documents added, replaced or deleted.

Each change is one build (``build_index`` with ``add``): only what changed is embedded, the
result is a new generation published beside the served one, and a server swaps it in (see
``qa.search.live``). Changes are serialised: one at a time in this process (a lock), and one
build at a time per index directory across processes (the build lock). The answer says what
happened to each document, as the HTTP API reports it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qa.errors import CorpusError, EmptyIndexError, UnknownIdError
from qa.index import generations
from qa.index.build import build_index
from qa.index.plan import PassageEncoder
from qa.index.store import PassageStore
from qa.ingest.documents import Document, make_document
from qa.ingest.sources import SkippedFile, document_id_of, read_files, read_options
from qa.settings import Settings

logger = logging.getLogger(__name__)

Status = Literal["added", "replaced", "unchanged", "skipped", "deleted"]


@dataclass(frozen=True)
class Change:
    """What happened to one document (or one file that did not become one)."""

    id: str | None
    status: Status
    file: str | None = None
    reason: str | None = None


@dataclass
class ChangeReport:
    """The changes, and the generation that holds them (the one served before, if none)."""

    changes: list[Change] = field(default_factory=list)
    generation: int | None = None


class Changes:
    """Adds, replaces and deletes documents of the index at ``index_dir``, one change at a time.

    ``encoder`` gives the build encoder, loaded on first use (a server that only answers
    never loads it).
    """

    def __init__(self, index_dir: Path, settings: Settings,
                 encoder: Callable[[], PassageEncoder]) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings
        self._make_encoder = encoder
        self._encoder: PassageEncoder | None = None
        self._lock = threading.Lock()

    def encoder(self) -> PassageEncoder:
        if self._encoder is None:
            self._encoder = self._make_encoder()
        return self._encoder

    def add_files(self, files: Sequence[tuple[str, Path]], *, doc_id: str | None = None
                  ) -> ChangeReport:
        """Index uploaded files (their name as the user gave it, and where they lie now).

        Each file's id comes from its name, or is ``doc_id`` (one file: ``PUT``). Two files
        of the same id are both skipped, as in a folder. A file that cannot be read is a
        ``skipped`` change with its reason (``timed out``, ``crashed`` and ``out of memory``
        among them: files are converted in worker processes, ``read_files``); the others are
        indexed. ``isolation.ConversionStopped`` when the process is shutting down.
        """
        ids = [doc_id or document_id_of(name) for name, _ in files]
        duplicates: dict[int, Change] = {}
        to_read: list[tuple[Path, str, str | None]] = []
        for n, ((name, path), this_id) in enumerate(zip(files, ids, strict=True)):
            others = [m for (m, _), i in zip(files, ids, strict=True) if i == this_id and m != name]
            if ids.count(this_id) > 1:
                duplicates[n] = Change(this_id, "skipped", name, f"duplicate id: '{this_id}' is "
                                       f"also the id of {', '.join(others) or name}")
            else:
                to_read.append((path, name, this_id))
        # Converted in worker processes, in parallel, each within its time and memory limits.
        reads = iter(read_files(to_read, read_options(self.settings)))
        documents: list[Document] = []
        changes: list[Change] = []
        for n, this_id in enumerate(ids):
            if n in duplicates:
                changes.append(duplicates[n])
                continue
            read = next(reads)
            if isinstance(read, SkippedFile):
                changes.append(Change(this_id, "skipped", read.path, _reason(read)))
            else:
                documents.append(read[0])
        return self._apply(documents, changes, files={d.id: str(d.metadata.get("source"))
                                                       for d in documents})

    def add_record(self, record: Mapping[str, Any], *, doc_id: str | None = None) -> ChangeReport:
        """Index one JSON document: ``id`` (or ``doc_id``), ``text``, optional ``title``,
        ``date`` and ``metadata``. A bad field is a ``CorpusError``."""
        the_id = doc_id or record.get("id")
        if not isinstance(the_id, str) or not the_id:
            raise CorpusError("'id' must be a non-empty string")
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise CorpusError("'text' must be a non-empty string")
        doc = make_document(the_id, text, record.get("title"), record.get("date"),
                            format="jsonl", metadata=dict(record.get("metadata") or {}))
        return self._apply([doc], [], files={})

    def delete(self, doc_id: str) -> ChangeReport:
        """Remove one document; ``UnknownIdError`` if the index does not hold it."""
        with self._lock:
            held = self._held_ids()
            if doc_id not in held:
                raise UnknownIdError(f"no document with id '{doc_id}'")
            if held == {doc_id}:
                raise EmptyIndexError(f"'{doc_id}' is the only document: an index cannot be "
                                      "empty (replace it instead)")
            report = build_index([], self.encoder(), self.settings, self.index_dir, add=True,
                                 remove=[doc_id], progress=False)
            return ChangeReport([Change(doc_id, "deleted")], report.generation)

    def _apply(self, documents: list[Document], changes: list[Change], files: dict[str, str]
               ) -> ChangeReport:
        with self._lock:
            fingerprints = self._fingerprints()
            todo: list[Document] = []
            for doc in documents:
                old = fingerprints.get(doc.id)
                status: Status = ("added" if old is None else "unchanged"
                                  if old == doc.fingerprint else "replaced")
                changes.append(Change(doc.id, status, files.get(doc.id)))
                if status != "unchanged":
                    todo.append(doc)
            generation = self._current_number()
            if todo:
                generation = build_index(todo, self.encoder(), self.settings, self.index_dir,
                                         add=True, progress=False).generation
                logger.info("published generation %d: %s", generation,
                            ", ".join(f"{c.id} {c.status}" for c in changes))
            return ChangeReport(changes, generation)

    def _held_ids(self) -> set[str]:
        return set(self._fingerprints())

    def _fingerprints(self) -> dict[str, str]:
        """Id → content hash of every document in the published generation."""
        generation = generations.current(self.index_dir)
        if generation is None:
            return {}
        store = PassageStore(generation.files.store)
        try:
            return {i: store.fingerprint(i) or "" for i in store.document_ids()}
        finally:
            store.close()

    def _current_number(self) -> int | None:
        generation = generations.current(self.index_dir)
        return generation.number if generation is not None else None


def _reason(skipped: SkippedFile) -> str:
    return f"{skipped.reason}: {skipped.detail}" if skipped.detail else str(skipped.reason)
