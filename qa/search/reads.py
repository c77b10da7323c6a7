"""The search engine's read API: what the index holds, for every caller.

The HTTP API, the CLI and the evaluation ask here (through the ``SearchEngine``, which is an
``IndexReads``) and never reach into the index or the embedder, so those can change shape
without their readers noticing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from qa.embed.question_encoder import QuestionEncoder
from qa.errors import UnknownDocumentError
from qa.index.manifest import Manifest
from qa.index.snapshot import OriginalFile, Snapshot
from qa.index.store import DocumentSummary
from qa.ingest.documents import Document
from qa.ingest.passages import Passage


@dataclass(frozen=True)
class EngineInfo:
    """What the engine serves: counts, the model, how vectors were made, the index's identity."""

    documents: int
    passages: int
    model: str
    query_path: str  # how questions are embedded now
    query_path_chosen_by: str  # why that path: the setting, or what auto read of the CPU
    passage_path: str | None  # how the index's passage vectors were embedded (older indexes: None)
    sentence_path: str | None  # same for sentence vectors; None without sentence vectors
    vector_index: str  # the kind of vector index: exact or HNSW
    built_at: str | None
    index_dir: Path
    generation: int  # the published generation of the index being served


class IndexReads:
    """Reads of one opened index: counts, the model, documents, originals, texts.

    A base of ``SearchEngine``: it needs ``index`` (the snapshot), ``questions`` (the question
    encoder, for the model and runtime it names) and ``_texts`` (every document's text by id,
    held in memory for highlights).
    """

    index: Snapshot
    questions: QuestionEncoder
    _texts: dict[str, str]

    def health(self) -> EngineInfo:
        """Counts, model, embedding paths and the identity of the opened index."""
        m = self.index.manifest
        return EngineInfo(
            documents=m.documents,
            passages=len(self.passages),
            model=self.questions.model_id,
            query_path=self.questions.runtime,
            query_path_chosen_by=self.questions.chosen_by,
            passage_path=m.passage_path,
            sentence_path=m.sentence_path,
            vector_index=self.index.vectors.kind,
            built_at=m.built_at,
            index_dir=self.index.dir,
            generation=self.index.generation,
        )

    @property
    def manifest(self) -> Manifest:
        """The index's manifest (model, build settings, counts, fingerprint); immutable."""
        return self.index.manifest

    @property
    def passages(self) -> list[Passage]:
        """Every indexed passage; position ``i`` is row ``i`` of the vectors. Do not modify."""
        return self.index.passages

    def documents(self) -> list[DocumentSummary]:
        """The indexed documents in index order, each with its passage count."""
        return self.index.documents()

    def passages_per_document(self) -> dict[str, int]:
        """How many passages each document was cut into."""
        return self.index.store.passages_per_document()

    def document(self, doc_id: str) -> Document:
        """One document: full original text, title, date, sections and metadata.

        Raises ``UnknownDocumentError`` for an id the index does not hold.
        """
        doc = self.index.document(doc_id)
        if doc is None:
            raise UnknownDocumentError(f"no document with id '{doc_id}'")
        return doc

    def original(self, doc_id: str) -> OriginalFile:
        """The file the document was read from, as it was then.

        Raises ``UnknownDocumentError`` for an unknown id or a document without one (a JSONL
        record, or a file that changed while it was indexed).
        """
        found = self.index.original(doc_id)
        if found is None:
            self.document(doc_id)  # an unknown id says so
            raise UnknownDocumentError(f"document '{doc_id}' has no original file (it did not "
                                       "come from a file, or the file changed while it was indexed)")
        return found

    def document_text(self, doc_id: str) -> str:
        """A document's original text, which every citation span indexes into (from memory)."""
        try:
            return self._texts[doc_id]
        except KeyError:
            raise UnknownDocumentError(f"no document with id '{doc_id}'") from None

    def document_texts(self) -> Mapping[str, str]:
        """Every document's original text by id, read-only (held in memory for highlights)."""
        return MappingProxyType(self._texts)

    def close(self) -> None:
        """Release the index (its files and its lease on the generation); the model stays.

        Only for an engine no request uses any more; an engine nobody references is closed
        by itself (see ``Snapshot``).
        """
        self.index.close()
