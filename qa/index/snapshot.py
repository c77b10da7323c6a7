"""A snapshot: one published generation of an index, opened read-only for searching."""

from __future__ import annotations

import contextlib
import logging
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import IndexLoadError
from qa.index.generations import Generation, Lease, current, lease
from qa.index.layout import GenerationFiles
from qa.index.lexical import LexicalIndex
from qa.index.manifest import Manifest, load_manifest
from qa.index.sentences import SentenceVectors
from qa.index.store import DocumentSummary, PassageStore, reanalyse
from qa.index.vectors import VectorIndex
from qa.ingest.documents import Document
from qa.ingest.passages import Passage
from qa.settings import IndexSettings

log = logging.getLogger(__name__)

_ATTEMPTS = 3


@dataclass(frozen=True)
class OriginalFile:
    """Where a document's original file lies in a generation, and what it is."""

    path: Path
    filename: str  # as it was found, relative to the folder that was read
    media_type: str
    size: int


class Snapshot:
    """Passages, vectors and the lexical index of one generation, checked against the model.

    A snapshot stays what it was opened as: from opening to closing it holds a lease on its
    generation (see ``generations``), so builds publish new generations beside it and no prune
    removes this one while it is open. ``close`` releases it; a snapshot nobody references
    any more is closed by itself (so a server's old engine lets go of its generation when
    the last request using it ends).
    """

    def __init__(self, index_dir: Path, generation: Generation, manifest: Manifest,
                 store: PassageStore, vectors: VectorIndex, embeddings: np.ndarray,
                 lexical: LexicalIndex, sentences: SentenceVectors | None,
                 held: Lease | None = None, exact_search_max: int = 50_000) -> None:
        """``exact_search_max``: up to this many vectors a search within a subset is exact
        (``QA_EXACT_SEARCH_MAX``, as for the whole index at build time)."""
        self.dir = index_dir
        self.exact_search_max = exact_search_max
        self.generation = generation.number
        self.path = generation.path
        self.manifest = manifest
        self.store = store
        self.vectors = vectors
        self.embeddings = embeddings
        self.lexical = lexical
        self.sentences = sentences
        self._closer = weakref.finalize(self, _release, store, held)

    @classmethod
    def open(cls, index_dir: Path, settings: IndexSettings, *, model_id: str | None = None,
             dim: int | None = None) -> Snapshot:
        """Open the published generation of ``index_dir``; it must match ``model_id``/``dim``.

        Opening only reads. Should builds publish twice between reading ``CURRENT`` and taking
        the lease, the generation may be removed before it is leased; the pointer has then
        moved and the newer one is opened instead.
        """
        index_dir = Path(index_dir).resolve()
        for attempt in range(_ATTEMPTS):
            generation = current(index_dir)
            if generation is None:
                raise IndexLoadError(
                    f"no index at {index_dir}: build one with `qa build --index {index_dir}`")
            try:
                return cls._open(index_dir, generation, settings, model_id, dim)
            except IndexLoadError:
                if attempt == _ATTEMPTS - 1 or current(index_dir) == generation:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _open(cls, index_dir: Path, generation: Generation, settings: IndexSettings,
              model_id: str | None, dim: int | None) -> Snapshot:
        held = lease(generation)  # first: from here on no prune removes what is being read
        try:
            return cls._load(index_dir, generation, settings, model_id, dim, held)
        except BaseException:
            held.release()
            raise

    @classmethod
    def _load(cls, index_dir: Path, generation: Generation, settings: IndexSettings,
              model_id: str | None, dim: int | None, held: Lease) -> Snapshot:
        manifest = load_manifest(generation.path)
        if (model_id is not None and manifest.model != model_id) or (dim is not None and manifest.dim != dim):
            raise IndexLoadError(
                f"the index at {index_dir} was built with model {manifest.model!r} "
                f"(dimension {manifest.dim}), but the service uses {model_id!r} (dimension {dim}). "
                f"Rebuild it with `qa build --index {index_dir}` or set QA_MODEL={manifest.model}"
            )
        files = generation.files
        try:
            store = PassageStore(files.store)
        except Exception as exc:
            raise IndexLoadError(f"{index_dir}: damaged index ({exc}); rebuild it") from None
        try:
            vectors = VectorIndex.load(files.vectors, settings.hnsw_ef_search)
            embeddings = np.load(files.embeddings)
            lexical = LexicalIndex.load(files.lexical)
            sentences = (SentenceVectors.load(files, settings.hnsw_ef_search,
                                              contexts=manifest.sentence_contexts)
                         if manifest.sentence_vectors else None)
        except Exception as exc:
            store.close()
            raise IndexLoadError(f"{index_dir}: damaged index ({exc}); rebuild it") from None
        if not (len(store) == len(vectors) == len(embeddings) == manifest.passages):
            store.close()
            raise IndexLoadError(f"{index_dir}: passage counts disagree; rebuild the index")
        if (manifest.sentence_vectors and not manifest.sentence_contexts
                and settings.sentence_vectors and settings.sentence_contexts):
            log.warning("%s was built without sentences in context: highlights choose by the bare "
                        "sentence vectors until `qa build --index %s` adds them (otherwise the "
                        "first write through the API embeds them for the whole collection)",
                        index_dir, index_dir)
        return cls(index_dir, generation, manifest, store, vectors, embeddings, lexical, sentences,
                   held, settings.exact_search_max)

    @property
    def passages(self) -> list[Passage]:
        """All passages; row ``i`` is vector ``i``."""
        return self.store.passages

    def documents(self) -> list[DocumentSummary]:
        """The indexed documents in indexing order: id, title, date, length, passage count."""
        return self.store.summaries()

    def document(self, doc_id: str) -> Document | None:
        """One document with its full original text and sections; None if it is not indexed."""
        return self.store.get_document(doc_id)

    def original(self, doc_id: str) -> OriginalFile | None:
        """The document's original file as kept in this generation; None if there is none."""
        found = self.store.original(doc_id)
        if found is None:
            return None
        path = GenerationFiles(self.path).original(found.sha256)
        if not path.is_file():
            return None
        return OriginalFile(path, found.filename, found.media_type, found.size)

    def document_texts(self) -> dict[str, str]:
        """Every document's text by id."""
        return self.store.document_texts()

    def section_spans(self) -> dict[str, list[tuple[int, int, str]]]:
        """Each document's titled sections (``PassageStore.section_spans``)."""
        return self.store.section_spans()

    def list_items(self) -> dict[str, list[tuple[int, int]]]:
        """Each document's list-item blocks (``PassageStore.list_items``)."""
        return self.store.list_items()

    def reload_documents(self) -> list[Document]:
        """The indexed documents, analysed again, as a build takes them (``--add``)."""
        return reanalyse(self.store.documents())

    @property
    def closed(self) -> bool:
        return not self._closer.alive

    def close(self) -> None:
        """Close the passage store and release the lease on the generation; idempotent."""
        self._closer()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _release(store: PassageStore, held: Lease | None) -> None:
    """What closing a snapshot does; holds no reference to the snapshot itself."""
    with contextlib.suppress(Exception):
        store.close()
    if held is not None:
        held.release()
