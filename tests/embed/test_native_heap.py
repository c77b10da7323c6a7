"""A build hands the native heap's free pages back after every embedding batch, so that its
peak memory is set by its largest batch, not by how many batch shapes the collection gives
(bench/build_memory.py measures the effect; tests assert the mechanism only)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from qa.embed import native_heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_glibc_malloc_trim_is_found_and_runs():
    assert native_heap.can_release()
    native_heap.release()  # returns nothing, must not raise


def test_the_build_releases_the_heap_after_every_batch(embedder, monkeypatch):
    calls: list[int] = []
    heard: list[int] = []
    real = native_heap.release
    monkeypatch.setattr(native_heap, "release", lambda: (calls.append(1), real())[1])
    texts = [f"Kommunen beslutar om punkt {i} i planen." for i in range(2 * embedder.settings.batch_size + 3)]
    vectors = embedder.embed_passages(texts, on_batch=heard.append)
    assert len(calls) == 3  # two full batches and the rest
    assert heard == [embedder.settings.batch_size] * 2 + [3]  # the caller still hears of each
    assert vectors.shape == (len(texts), embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
