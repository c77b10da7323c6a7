"""Pieces of ``qa.search.ranking`` that need no index."""

from __future__ import annotations

import numpy as np

from qa.search.ranking import rows_not_in


def test_rows_not_in_gives_what_numpy_setdiff1d_gives() -> None:
    """The fusion's extra BM25 candidates: the same rows in the same order and type as
    ``np.setdiff1d``, which it replaces, so the fused ranking is the same."""
    rng = np.random.default_rng(7)
    for dtype in (np.int64, np.int32):
        for size in (0, 1, 5, 60):
            rows = rng.integers(0, 80, size).astype(dtype)  # repeats included
            for others in (rng.integers(0, 80, 50).astype(np.int64), np.zeros(0, np.int64), rows):
                got, want = rows_not_in(rows, others), np.setdiff1d(rows, others)
                assert got.dtype == want.dtype and got.tolist() == want.tolist()
