"""The files of one generation: the only place that names them.

A generation directory holds::

    manifest.json      model, dimension, counts, corpus fingerprint, build time, settings
    passages.sqlite    documents and passages (row i = vector i)
    embeddings.npy     normalised passage vectors, float32
    vectors.faiss      FAISS index over those vectors (flat or HNSW)
    sentences.npy      normalised vectors of each passage's sentences (when enabled)
    sentence_spans.npy their [start, end) in the document; sentence_offsets.npy: passage i
                       owns sentences offsets[i]:offsets[i+1]
    sentences.faiss    FAISS index over the sentence vectors
    sentence_contexts.npy  normalised vectors of the same sentences read in context (title,
                       section and the sentence before; when enabled), for highlights
    lexical/           BM25 index (bm25s) and the compound vocabulary
    originals/         the files documents were read from, named by their SHA-256

Until now these files lay at the top of the index directory itself (the "flat" layout); such a
directory is still read (see ``generations``), so the names must not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class GenerationFiles:
    """Paths of the files of the generation stored in ``root``."""

    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def store(self) -> Path:
        return self.root / "passages.sqlite"

    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings.npy"

    @property
    def vectors(self) -> Path:
        return self.root / "vectors.faiss"

    @property
    def sentences(self) -> Path:
        return self.root / "sentences.npy"

    @property
    def sentence_spans(self) -> Path:
        return self.root / "sentence_spans.npy"

    @property
    def sentence_offsets(self) -> Path:
        return self.root / "sentence_offsets.npy"

    @property
    def sentence_index(self) -> Path:
        return self.root / "sentences.faiss"

    @property
    def sentence_contexts(self) -> Path:
        return self.root / "sentence_contexts.npy"

    @property
    def lexical(self) -> Path:
        return self.root / "lexical"

    @property
    def originals(self) -> Path:
        return self.root / "originals"

    def original(self, sha256: str) -> Path:
        return self.originals / sha256

    def all(self) -> list[Path]:
        """Every path a generation may hold, the manifest first."""
        return [self.manifest, self.store, self.embeddings, self.vectors, self.sentences,
                self.sentence_spans, self.sentence_offsets, self.sentence_index,
                self.sentence_contexts, self.lexical, self.originals]
