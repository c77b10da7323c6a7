"""The optional reranker with a real cross-encoder built locally.

No trained Swedish cross-encoder ships offline, so this builds one from the
rebuilt e5-small encoder with a fresh (seeded) scoring head. Its judgements are
not meaningful, but it is a real CrossEncoder, which is what the reranking code
path must handle: the top candidates come back in the cross-encoder's order with
their citations intact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.embed.model_files import prepare_model
from qa.search.engine import SearchEngine


@pytest.fixture(scope="module")
def cross_encoder_dir(settings, tmp_path_factory) -> Path:
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    model = CrossEncoder(str(prepare_model(settings.embed)), num_labels=1, local_files_only=True)
    target = tmp_path_factory.mktemp("reranker") / "e5-cross"
    model.save(str(target))
    return target


def test_reranker_orders_top_candidates_by_cross_encoder(settings, engine, cross_encoder_dir):
    reranking = settings.model_copy(update={"reranker": str(cross_encoder_dir), "rerank_top": 8})
    reranked = SearchEngine(engine.index, engine.questions, reranking.search)
    question = "Hur många länsstyrelser finns det?"
    result = reranked.search(question, k=5)
    assert "rerank_ms" in result.timings and len(result.hits) == 5
    scores = reranked.reranker.model.predict(
        [(question, h.passage.text) for h in result.hits], show_progress_bar=False)
    assert [h.score for h in result.hits] == pytest.approx(scores.tolist(), abs=1e-4)
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    plain = {h.passage.id for h in engine.search(question, k=8, highlights=False).hits}
    assert {h.passage.id for h in result.hits} <= plain, "reranking only reorders the candidates"


def test_unloadable_reranker_is_a_clear_error(settings, engine, tmp_path):
    from qa.errors import ModelError

    broken = settings.model_copy(update={"reranker": str(tmp_path / "no-such-model")})
    with pytest.raises(ModelError, match="cannot load reranker"):
        SearchEngine(engine.index, engine.questions, broken.search)
