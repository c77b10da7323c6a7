"""Score fusions, the learned fusion's weights and pseudo-relevance feedback, on small inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.errors import QAError
from qa.index.lexical import LexicalIndex
from qa.search.features import FEATURES, Candidates
from qa.search.feedback import rm3_scores, rm3_weights, rocchio
from qa.search.fusion import SHIPPED_WEIGHTS, LearnedFusion, fuse, minmax, reciprocal_ranks, zscore


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


def test_rm3_weights_keep_the_question_share_and_add_the_feedback_terms():
    w = rm3_weights(["a", "b"], [(["a", "c", "c", "d"], 2.0), (["c", "e"], 1.0)], 2, 0.6)
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["a"] > 0.3 and w["b"] == pytest.approx(0.3)  # 0.6 split over the question's two terms
    # The two best expansion terms: "c" (frequent in both passages) and "a" (in the best one).
    assert set(w) == {"a", "b", "c"} and w["c"] > w["b"]
    assert rm3_weights([], [(["a"], 1.0)], 5, 0.5) == {}
    assert rm3_weights(["a"], [(["b"], 1.0)], 5, 1.0) == {"a": 1.0}


def test_rm3_finds_a_passage_through_the_words_of_the_best_passages():
    corpus = ["Bygglov kostar enligt taxan för bygglov.", "Taxan för bygglov beslutas av nämnden.",
              "Nämnden sammanträder varje månad.", "Simhallen öppnar i maj."]
    index = LexicalIndex.build(corpus)

    def terms_of(row: int) -> list[str]:
        return index.terms(corpus[row])

    plain = index.scores("bygglov")
    assert plain[2] == 0  # shares no term with the question
    expanded = rm3_scores(index, "bygglov", terms_of, passages=2, terms=6,
                          original_weight=0.5)
    assert expanded[2] > 0 and expanded[3] == 0
    assert np.argmax(expanded) in (0, 1)
    assert np.allclose(rm3_scores(index, "bygglov", terms_of, 2, 0, 0.5), plain)
    assert rm3_scores(index, "och det", terms_of, 2, 5, 0.5) is None
