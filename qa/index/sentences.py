"""Sentence vectors: each passage's sentences embedded on their own, so that a passage scores as
well as its closest sentence; and, where built, the same sentences read in context (title,
section and the sentence before: ``Passage.sentence_in_context``), by which the highlighter
chooses the answering sentence."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from qa.index.layout import GenerationFiles
from qa.index.vectors import VectorIndex, make_vector_index


@dataclass
class SentenceVectors:
    """Passage ``i`` owns the sentences ``offsets[i]:offsets[i+1]``; ``parent`` maps back.

    ``contexts`` (row for row with ``vectors``) is None in indexes built without them.
    """

    vectors: np.ndarray
    spans: np.ndarray
    offsets: np.ndarray
    index: VectorIndex
    parent: np.ndarray
    contexts: np.ndarray | None = None

    @classmethod
    def load(cls, files: GenerationFiles, ef_search: int, contexts: bool = False) -> SentenceVectors:
        offsets = np.load(files.sentence_offsets)
        parent = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        vectors = np.load(files.sentences)
        # Read a passage at a time, for the hits shown only: mapped, not loaded, so they cost
        # memory for what is read rather than for the whole collection.
        in_context = np.load(files.sentence_contexts, mmap_mode="r") if contexts else None
        if in_context is not None and in_context.shape != vectors.shape:
            raise ValueError(f"{len(in_context)} sentences in context for {len(vectors)} sentences")
        return cls(vectors, np.load(files.sentence_spans), offsets,
                   VectorIndex.load(files.sentence_index, ef_search), parent, in_context)

    def for_highlights(self, row: int) -> np.ndarray:
        """The vectors the highlighter scores passage ``row``'s sentences by: in context where
        the index has them."""
        a, b = self.offsets[row], self.offsets[row + 1]
        return np.asarray((self.vectors if self.contexts is None else self.contexts)[a:b])

    def best(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """For each passage row, the highest cosine of its sentences with ``query``."""
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        idx = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        sims = np.asarray(self.vectors[idx]) @ query
        return np.maximum.reduceat(sims, np.cumsum(lengths) - lengths)


def write_sentence_vectors(files: GenerationFiles, vectors: np.ndarray, spans: np.ndarray,
                           offsets: np.ndarray, exact_max: int, hnsw_m: int) -> None:
    """Write the sentence files of a generation being built (read back by ``SentenceVectors``)."""
    np.save(files.sentences, vectors)
    np.save(files.sentence_spans, spans)
    np.save(files.sentence_offsets, offsets)
    faiss.write_index(make_vector_index(vectors, exact_max, hnsw_m), str(files.sentence_index))
