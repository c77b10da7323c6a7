"""The FAISS vector index: exact while the corpus is small, HNSW when it is large."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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


VectorIndexKind = Literal["flat", "hnsw"]


def kind_of(index: faiss.Index) -> VectorIndexKind:
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


class RowSelection:
    """A subset of an index's rows (a boolean mask), in the form FAISS searches within.

    Built once per filter and kept with it: the bitmap must outlive the selector, which only
    points at it.
    """

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = np.asarray(mask, dtype=bool)
        self.count = int(self.mask.sum())
        self._bitmap = np.packbits(self.mask, bitorder="little")  # bit i % 8 of byte i // 8
        self.selector = faiss.IDSelectorBitmap(len(self._bitmap), faiss.swig_ptr(self._bitmap))

    def __len__(self) -> int:
        return len(self.mask)


class VectorIndex:
    """Nearest passages of a question vector."""

    def __init__(self, index: faiss.Index, ef_search: int = 128) -> None:
        self.index = index
        self.ef_search = ef_search
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

    def search_within(self, query: np.ndarray, n: int, within: RowSelection,
                      exact_max: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the ``n`` nearest rows among ``within``, best first.

        Only selected rows are ever candidates, so ``n`` results come back whenever ``within``
        holds ``n`` rows. An exact index searches the selected rows exactly. An HNSW index does
        too when at most ``exact_max`` rows are selected (the bound up to which the build deems
        exact search affordable): a walk of the graph would mostly meet excluded nodes and may
        end with fewer than ``n``. With more selected rows the graph is walked through all
        nodes but only selected ones are returned, with a search breadth widened by the inverse
        of the share selected; should that still find fewer than ``n``, the exact search
        answers instead.
        """
        n = min(n, within.count, len(self))
        if n <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        q = query.reshape(1, -1).astype(np.float32, copy=False)
        if isinstance(self.index, faiss.IndexHNSW) and within.count > exact_max:
            share = within.count / max(len(self), 1)
            ef = int(min(max(self.ef_search, n) / share, len(self)))
            # faiss's bundled stubs lack SearchParametersHNSW and the parameters' keywords.
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                sel=within.selector, efSearch=max(ef, n))
            scores, rows = self.index.search(q, n, params=params)
            keep = rows[0] >= 0
            if keep.sum() == n:
                return scores[0][keep], rows[0][keep]
        flat = (faiss.downcast_index(self.index.storage) if isinstance(self.index, faiss.IndexHNSW)
                else self.index)
        scores, rows = flat.search(
            q, n, params=faiss.SearchParameters(sel=within.selector))  # type: ignore[call-arg]
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]
