"""The ONNX Runtime passage path gives the same vectors as sentence-transformers."""

from __future__ import annotations

import numpy as np

from qa.passages import split_document


def test_onnx_passage_vectors_match_sentence_transformers(embedder, seed_documents):
    encoder = embedder.passage_encoder()
    assert encoder is not None and embedder.passage_path == "onnxruntime"
    texts = [p.text for d in seed_documents for p in split_document(d, embedder.count_tokens)]
    texts += ["Kort.", "Hur många länsstyrelser finns det?", "ord " * 600]  # one past the window
    fast = embedder.embed_passages(texts)
    reference = embedder.model.encode(texts, prompt=embedder.passage_prompt, batch_size=16,
                                      normalize_embeddings=True, convert_to_numpy=True)
    cosines = (fast * reference).sum(axis=1)
    assert cosines.min() >= 0.9999, f"min cosine {cosines.min():.5f}"
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
