"""A build hands the native heap's free pages back after every embedding batch and runs long
batches in slices, so that its peak memory is set by a bounded slice, not by how many batch shapes
the collection gives nor by batch size × its longest text (bench/build_memory.py measures the
effect; tests assert the mechanism only)."""

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


def test_long_batches_run_in_slices_with_the_same_vectors(embedder, seed_documents, monkeypatch):
    """A batch of long texts is computed a few texts at a time at the batch's width, which bounds
    the runtime's working set; the vectors are those of the whole batch at once, bit for bit."""
    text = seed_documents[0].text
    texts = [embedder.passage_prompt + text[7 * i: 7 * i + 2000] for i in range(12)]
    for kind in ("passage", "sentence"):
        encoder = embedder.encoder(kind)
        assert encoder.max_batch_tokens > 0
        width = encoder.tokenizer.batch(texts)["input_ids"].shape[1]
        assert len(texts) * width > encoder.max_batch_tokens  # so this batch is sliced
        sliced = encoder.embed(texts)
        monkeypatch.setattr(encoder, "max_batch_tokens", 0)
        whole = encoder.embed(texts)
        monkeypatch.undo()
        assert np.array_equal(sliced, whole), f"{kind}: max diff {np.abs(sliced - whole).max()}"
        seen: list[tuple[int, int]] = []
        monkeypatch.setattr(encoder, "_infer", _recording(encoder._infer, seen))
        encoder.embed(texts)
        monkeypatch.undo()
        assert all(r * w <= encoder.max_batch_tokens and w == width for r, w in seen)
        assert sum(r for r, _ in seen) == len(texts)


def _recording(infer, seen):
    """``infer``, noting the shape of each slice it is given."""
    def run(inputs):
        seen.append(inputs["input_ids"].shape)
        return infer(inputs)
    return run
