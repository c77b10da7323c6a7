"""Ranking experiments behind settings, on the real engine over the seeds index.

Each variant must leave the default untouched, rank the seeds' plain questions as sensibly
as the default does, and keep the contracts every ranking has (filters inside ranking, k
results, similarity from the question as asked).
"""

from __future__ import annotations

import numpy as np
import pytest

from qa.search.engine import SearchEngine
from qa.search.features import FEATURES
from qa.search.filters import Filters

VARIANTS = [
    {"fusion": "minmax", "lexical_weight": 0.1},
    {"fusion": "zscore", "lexical_weight": 0.1},
    {"fusion": "rrf", "lexical_weight": 0.5},
    {"fusion": "learned"},
    {"prf_beta": 0.25, "prf_passages": 3},
    {"rm3_terms": 10, "rm3_passages": 5, "rm3_weight": 0.7},
    {"rm3_terms": 0},
]
QUESTION = "Hur många länsstyrelser finns det?"


def _variant(engine: SearchEngine, **overrides) -> SearchEngine:
    return SearchEngine(engine.index, engine.questions,
                        engine.settings.model_copy(update=overrides))


def _answer_row(engine: SearchEngine) -> int:
    """The passage that says how many county administrative boards there are."""
    [row] = [i for i, p in enumerate(engine.passages) if "21 fristående myndigheter" in p.text]
    return row


@pytest.mark.parametrize("overrides", VARIANTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_each_variant_ranks_a_plain_question_and_keeps_the_contracts(engine, overrides):
    variant = _variant(engine, **overrides)
    result = variant.search(QUESTION, 5, highlights=False)
    assert len(result.hits) == 5
    assert result.hits[0].passage.id == engine.passages[_answer_row(engine)].id
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    # Similarity stays the question's own cosine (feedback moves only the ranking).
    default = {h.passage.id: h.similarity for h in engine.search(QUESTION, 10, highlights=False).hits}
    for h in result.hits:
        if h.passage.id in default:
            assert h.similarity == pytest.approx(default[h.passage.id], abs=1e-6)
    # Filters still apply inside ranking.
    other = next(d.id for d in engine.documents() if d.id != result.hits[0].passage.document_id)
    filtered = variant.search(QUESTION, 3, filters=Filters.make(document_ids=[other]),
                              highlights=False)
    assert filtered.hits and {h.passage.document_id for h in filtered.hits} == {other}


def test_the_default_is_the_convex_fusion_with_rm3_and_no_vector_feedback(engine):
    s = engine.settings
    assert (s.fusion, s.prf_beta, s.compound_vocabulary) == ("convex", 0.0, "corpus")
    assert (s.rm3_terms, s.rm3_passages, s.rm3_weight) == (5, 3, 0.85)
    explicit = _variant(engine, fusion="convex", prf_beta=0.0, rm3_terms=5, rm3_passages=3,
                        rm3_weight=0.85)
    for q in ("Vad är tillitsbaserad styrning?", QUESTION, "Vem leder regionstyrelsen?"):
        a = [(h.passage.id, h.score) for h in engine.search(q, 10, highlights=False).hits]
        b = [(h.passage.id, h.score) for h in explicit.search(q, 10, highlights=False).hits]
        assert a == b


def test_rm3_widens_only_the_bm25_side_of_hybrid_ranking(engine):
    """RM3 brings in passages that share the best BM25 passages' words, but only as hybrid
    ranking's BM25 side: lexical and dense mode rank as without it."""
    plain = _variant(engine, rm3_terms=0)
    q = "granskningsrapporten"  # one rare indexed term: BM25 alone finds one passage
    widened, _ = engine.candidates(q)
    own, _ = plain.candidates(q)
    assert (widened.bm25 > 0).sum() > (own.bm25 > 0).sum() == 1
    # The question's own match keeps the best BM25.
    assert widened.rows[np.argmax(widened.bm25)] == own.rows[np.argmax(own.bm25)]
    for mode in ("lexical", "dense"):
        assert [h.passage.id for h in engine.search(q, 10, mode, highlights=False).hits] == \
            [h.passage.id for h in plain.search(q, 10, mode, highlights=False).hits]
    assert len(engine.search(q, 10, "lexical", highlights=False).hits) == 1


def test_candidates_carry_the_signals_the_fusions_use(engine):
    found, x = engine.candidates(QUESTION)
    assert x.shape == (len(found), len(FEATURES)) and len(found) >= engine.settings.candidates
    assert len(set(found.rows.tolist())) == len(found)  # each passage once
    qvec = engine.questions.embed(QUESTION)
    col = {name: x[:, i] for i, name in enumerate(FEATURES)}
    assert np.allclose(col["passage_cosine"], engine.index.embeddings[found.rows] @ qvec, atol=1e-5)
    assert np.allclose(found.dense, engine.dense_scores(found.rows, qvec), atol=1e-5)
    assert col["bm25_relative"].max() == pytest.approx(1.0) and col["bm25_relative"].min() >= 0
    assert col["bm25_reciprocal_rank"].max() == 1.0
    assert ((col["term_coverage"] >= 0) & (col["term_coverage"] <= 1 + 1e-9)).all()
    # A "how many" question: the cue marks passages with a number, and only that cue fires.
    answer = int(np.flatnonzero(found.rows == _answer_row(engine))[0])
    assert col["asks_how_many_has_it"][answer] == 1.0
    others = [n for n in FEATURES if n.startswith("asks_") and n != "asks_how_many_has_it"]
    assert all(col[n].sum() == 0 for n in others)
