"""The ranking variants of the studies (``bench.studies.ranking_variants``): the fusions and
feedback on small inputs, then each variant on the real engine over the seeds index.

Each variant must leave the default untouched, rank the seeds' plain questions as sensibly
as the default does, and keep the contracts every ranking has (filters inside ranking, k
results, similarity from the question as asked). Run with
``python -m pytest bench/studies`` (the fixtures are the product tests' own).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.studies.ranking_variants import (
    FEATURES,
    SHIPPED_WEIGHTS,
    Candidates,
    LearnedFusion,
    SearchEngine,
    Settings,
    StudySearchSettings,
    fuse,
    minmax,
    reciprocal_ranks,
    rocchio,
    zscore,
)
from qa.errors import QAError
from qa.search.filters import Filters


def _candidates(dense, bm25) -> Candidates:
    dense, bm25 = np.asarray(dense, float), np.asarray(bm25, float)
    return Candidates(np.arange(len(dense)), dense, dense, dense, bm25)


def test_normalisations():
    assert minmax(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert minmax(np.array([5.0, 5.0])).tolist() == [0.0, 0.0] and len(minmax(np.zeros(0))) == 0
    z = zscore(np.array([1.0, 2.0, 3.0]))
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1) < 1e-12
    assert zscore(np.array([7.0, 7.0])).tolist() == [0.0, 0.0]
    rr = reciprocal_ranks(np.array([0.1, 0.9, 0.5]), 60)
    assert rr.tolist() == [1 / 63, 1 / 61, 1 / 62]
    assert reciprocal_ranks(np.array([0.1, 0.9]), 60, np.array([False, True])).tolist() == [0, 1 / 61]


def test_each_fusion_lets_bm25_overturn_a_close_dense_order_only_with_enough_weight():
    # Candidate 0 is slightly closer by cosine, candidate 1 is BM25's best.
    c = _candidates([0.86, 0.85, 0.70], [1.0, 9.0, 0.0])
    for method in ("minmax", "zscore", "rrf"):
        assert np.argmax(fuse(method, c, 0.0, 60)) == 0, method
        assert np.argmax(fuse(method, c, 2.0, 60)) == 1, method
    # RRF: a candidate without any BM25 term gets nothing from the BM25 side.
    rrf = fuse("rrf", c, 1.0, 60)
    assert rrf[2] == pytest.approx(1 / 63)
    learned = np.array([0.1, 0.2, 0.3])
    assert fuse("learned", c, 0.0, 60, learned) is learned
    with pytest.raises(QAError, match="unknown fusion 'magic'"):
        fuse("magic", c, 0.1, 60)


def test_learned_weights_round_trip_and_are_checked(tmp_path):
    model = LearnedFusion(np.arange(len(FEATURES), dtype=float) / 10, -1.5)
    path = tmp_path / "w.json"
    model.save(path, {"C": 0.1})
    back = LearnedFusion.load(path)
    assert np.allclose(back.weights, model.weights) and back.bias == -1.5
    x = np.ones((2, len(FEATURES)))
    assert np.allclose(back.score(x), 1 / (1 + np.exp(-(x @ model.weights - 1.5))))
    data = json.loads(path.read_text())
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(QAError, match="fit them again"):
        LearnedFusion.load(path)
    path.write_text("{")
    with pytest.raises(QAError, match="not readable fusion weights"):
        LearnedFusion.load(path)
    with pytest.raises(QAError, match="not readable fusion weights"):
        LearnedFusion.load(tmp_path / "saknas.json")


def test_the_shipped_weights_load():
    assert SHIPPED_WEIGHTS.is_file()
    assert len(LearnedFusion.load().weights) == len(FEATURES)


def test_rocchio_moves_the_question_towards_its_feedback_and_stays_a_unit_vector():
    q = np.array([1.0, 0.0, 0.0], np.float32)
    fb = np.array([[0.0, 1.0, 0.0], [0.0, 0.8, 0.6]], np.float32)
    moved = rocchio(q, fb, 0.5)
    assert abs(float(np.linalg.norm(moved)) - 1) < 1e-6 and moved.dtype == q.dtype
    assert moved @ fb.mean(axis=0) > q @ fb.mean(axis=0)
    assert rocchio(q, fb, 0.0) is q and rocchio(q, fb[:0], 0.5) is q




def test_the_study_settings_read_the_old_variables(monkeypatch):
    monkeypatch.setenv("QA_FUSION", "rrf")
    monkeypatch.setenv("QA_PRF_BETA", "0.25")
    monkeypatch.setenv("QA_COMPOUND_VOCABULARY", "both")
    s = Settings(candidates=7)
    assert (s.search.fusion, s.search.prf_beta, s.search.candidates) == ("rrf", 0.25, 7)
    assert s.compound_vocabulary == "both"


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


@pytest.fixture(scope="module")
def study_engine(engine) -> SearchEngine:
    """The study engine over the served engine's index, at the study settings' defaults."""
    return SearchEngine(engine.index, engine.questions, StudySearchSettings())


def _variant(engine, **overrides) -> SearchEngine:
    return SearchEngine(engine.index, engine.questions,
                        StudySearchSettings(**{**engine.settings.model_dump(), **overrides}))


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


def test_the_study_defaults_rank_exactly_as_the_served_engine(engine, study_engine):
    s = study_engine.settings
    assert (s.fusion, s.prf_beta, Settings().index.compound_vocabulary) == ("convex", 0.0, "corpus")
    explicit = _variant(engine, fusion="convex", prf_beta=0.0, rm3_terms=5, rm3_passages=3,
                        rm3_weight=0.85)
    for q in ("Vad är tillitsbaserad styrning?", QUESTION, "Vem leder regionstyrelsen?"):
        a = [(h.passage.id, h.score) for h in engine.search(q, 10, highlights=False).hits]
        b = [(h.passage.id, h.score) for h in explicit.search(q, 10, highlights=False).hits]
        c = [(h.passage.id, h.score) for h in study_engine.search(q, 10, highlights=False).hits]
        assert a == b == c


def test_candidates_carry_the_signals_the_fusions_use(engine, study_engine):
    found, x = study_engine.candidates(QUESTION)
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
