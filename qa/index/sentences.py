"""Sentence vectors: each passage's sentences embedded on their own, so that a passage scores as
well as its closest sentence and the highlighter knows each sentence's cosine."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from qa.index.layout import GenerationFiles
from qa.index.vectors import VectorIndex, make_vector_index


@dataclass
class SentenceVectors:
    """Passage ``i`` owns the sentences ``offsets[i]:offsets[i+1]``; ``parent`` maps back."""

    vectors: np.ndarray
    spans: np.ndarray
    offsets: np.ndarray
    index: VectorIndex
    parent: np.ndarray

    @classmethod
    def load(cls, files: GenerationFiles, ef_search: int) -> SentenceVectors:
        offsets = np.load(files.sentence_offsets)
        parent = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        return cls(np.load(files.sentences), np.load(files.sentence_spans), offsets,
                   VectorIndex.load(files.sentence_index, ef_search), parent)

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
