"""The ONNX Runtime paths: fp32 gives the model's own vectors, int8 stays close to them."""

from __future__ import annotations

import numpy as np
import pytest

from qa.index.build import build_index
from qa.index.manifest import read_manifest
from qa.index.snapshot import Snapshot
from qa.ingest.passages import split_document


@pytest.fixture(scope="module")
def seed_passages(embedder, seed_documents) -> list[str]:
    return [p.text for d in seed_documents for p in split_document(d, embedder.count_tokens)]


def _reference(embedder, texts: list[str], prompt: str) -> np.ndarray:
    return embedder.model.encode(texts, prompt=prompt, batch_size=16, normalize_embeddings=True,
                                 convert_to_numpy=True)


def test_fp32_passage_vectors_match_sentence_transformers(embedder, seed_passages):
    encoder = embedder.onnx("fp32")
    assert encoder is not None
    texts = [*seed_passages, "Kort.", "Hur många länsstyrelser finns det?", "ord " * 600]  # past the window
    fast = encoder.encode([embedder.passage_prompt + t for t in texts], 16)
    cosines = (fast * _reference(embedder, texts, embedder.passage_prompt)).sum(axis=1)
    assert cosines.min() >= 0.9999, f"min cosine {cosines.min():.5f}"
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)


def test_default_question_path_is_fp32_onnx_with_the_models_vectors(embedder):
    assert embedder.query_path == "onnxruntime-fp32"
    questions = ["Vad är tillitsbaserad styrning?", "Hur många regioner finns det i Sverige?", "Vem?"]
    fast = embedder.embed_queries(questions)
    cosines = (fast * _reference(embedder, questions, embedder.query_prompt)).sum(axis=1)
    assert cosines.min() >= 0.9999, f"min cosine {cosines.min():.5f}"


def test_int8_stays_close_to_fp32_and_a_text_does_not_depend_on_its_batch(embedder, seed_passages):
    assert embedder.precision("passage") == "fp32"  # int8 is opt-in
    int8 = embedder.onnx("int8")
    assert int8 is not None and int8.per_text
    texts = [embedder.passage_prompt + t for t in seed_passages]
    exact = embedder.onnx("fp32").encode(texts)
    quick = int8.encode(texts, batch_size=16)
    cosines = (exact * quick).sum(axis=1)
    assert cosines.min() >= 0.98 and cosines.mean() >= 0.99, (cosines.min(), cosines.mean())
    assert not np.allclose(exact, quick, atol=1e-4)  # it is another path, not the fp32 graph again
    # Activations are quantised per call, so each text goes alone: its vector is its own.
    alone = np.stack([int8.embed([t])[0] for t in texts[:6]])
    assert np.allclose(quick[:6], alone, atol=1e-6)


def test_passage_precision_is_part_of_the_build_key(embedder, settings, seed_documents, tmp_path):
    from qa.embed.model import Embedder

    doc = seed_documents[1]
    build_index([doc], embedder, settings, tmp_path / "idx", progress=False)
    exact = Snapshot.open(tmp_path / "idx", settings).embeddings
    assert read_manifest(tmp_path / "idx").passage_precision == "fp32"

    # Vectors of another precision are never reused: the int8 build embeds everything again.
    int8 = settings.model_copy(update={"passage_precision": "int8"})
    report = build_index([doc], Embedder(int8), int8, tmp_path / "idx", progress=False)
    assert report.reused == 0 and read_manifest(tmp_path / "idx").passage_precision == "int8"
    quick = Snapshot.open(tmp_path / "idx", settings).embeddings
    assert quick.shape == exact.shape and not np.allclose(exact, quick, atol=1e-4)
    assert (exact * quick).sum(axis=1).min() >= 0.98
