"""The FAISS vector index: exact while the corpus is small, HNSW when it is large."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


def make_vector_index(
    vectors: np.ndarray, exact_max: int, hnsw_m: int = 32, ef_construction: int = 200
) -> faiss.Index:
    """Inner product over normalised vectors (= cosine); HNSW above ``exact_max`` rows."""
    dim = vectors.shape[1]
    index: faiss.Index
    if len(vectors) <= exact_max:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def kind_of(index: faiss.Index) -> str:
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


class VectorIndex:
    """Nearest passages of a question vector."""

    def __init__(self, index: faiss.Index, ef_search: int = 128) -> None:
        self.index = index
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = ef_search

    @classmethod
    def load(cls, path: Path, ef_search: int = 128) -> VectorIndex:
        return cls(faiss.read_index(str(path)), ef_search)

    @property
    def kind(self) -> str:
        return kind_of(self.index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the ``n`` nearest passages, best first; rows are passage rows."""
        n = min(n, len(self))
        if n <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores, rows = self.index.search(query.reshape(1, -1).astype(np.float32, copy=False), n)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]
