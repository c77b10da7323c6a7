"""RM3 pseudo-relevance feedback on the BM25 side of hybrid ranking: small inputs, and the
real engine over the seeds index."""

from __future__ import annotations

import numpy as np
import pytest

from qa.index.lexical import LexicalIndex
from qa.search.engine import SearchEngine
from qa.search.feedback import rm3_scores, rm3_weights


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


def test_the_default_ranking_is_rm3_with_its_settings(engine):
    s = engine.settings
    assert (s.rm3_terms, s.rm3_passages, s.rm3_weight) == (5, 3, 0.85)


def test_rm3_widens_only_the_bm25_side_of_hybrid_ranking(engine):
    """RM3 brings in passages that share the best BM25 passages' words, but only as hybrid
    ranking's BM25 side: lexical and dense mode rank as without it."""
    plain = SearchEngine(engine.index, engine.questions,
                         engine.settings.model_copy(update={"rm3_terms": 0}))
    q = "granskningsrapporten"  # one rare indexed term: BM25 alone finds one passage
    pool = engine.settings.candidates
    widened, _, _ = engine.ranker.lexical(q, pool, None, {}, expand=True)
    own, _, _ = plain.ranker.lexical(q, pool, None, {}, expand=True)
    assert (widened > 0).sum() > (own > 0).sum() == 1
    # The question's own match keeps the best BM25.
    assert np.argmax(widened) == np.argmax(own)
    for mode in ("lexical", "dense"):
        assert [h.passage.id for h in engine.search(q, 10, mode, highlights=False).hits] == \
            [h.passage.id for h in plain.search(q, 10, mode, highlights=False).hits]
    assert len(engine.search(q, 10, "lexical", highlights=False).hits) == 1
