"""Pair mining, hard negatives and the adoption rule, on a hashed-encoder index (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.adapt.check import Check, decide, reciprocal_ranks
from qa.adapt.negatives import bm25_negatives, choose, negative_text
from qa.adapt.pairs import counts, is_held_out, is_question, mine_pairs
from qa.eval.confidence import compare
from qa.index import generations
from qa.index.lexical import LexicalIndex
from qa.index.store import PassageStore


@pytest.fixture(scope="module")
def store(hashed_adapt_index):
    opened = PassageStore(generations.current(hashed_adapt_index).files.store)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def pairs(store):
    return mine_pairs(store)


def by_query(pairs, query):
    found = [p for p in pairs if p.query == query]
    assert found, f"no pair for {query!r}: {[p.query for p in pairs]}"
    return found


def test_question_headings_pair_with_the_text_that_answers_them(pairs):
    (card,) = by_query(pairs, "Hur får jag ett bibliotekskort?")
    assert card.kind == "question"
    assert card.positive.startswith("Du får ett bibliotekskort i informationsdisken")
    assert "Vad kostar" not in card.positive  # the next question's answer is not its answer
    assert by_query(pairs, "Vad kostar det att låna om en bok?")[0].kind == "question"


def test_headings_pair_with_the_text_under_them_without_the_heading(pairs):
    (summer,) = by_query(pairs, "Öppettider under sommaren")
    assert summer.kind == "heading"
    assert summer.positive.startswith("Under juni, juli och augusti")
    assert "Öppettider under sommaren" not in summer.positive
    title = by_query(pairs, "Avfall och återvinning i kommunen")[0]
    assert title.kind == "heading" and "Soptunnan töms" in title.positive


def test_a_cloze_pair_takes_its_sentence_out_of_the_passage(pairs):
    cloze = [p for p in pairs if p.kind == "cloze"]
    assert cloze
    for pair in cloze:
        assert pair.query not in pair.positive
        assert len(pair.query.split()) >= 6


def test_a_list_lead_in_pairs_with_its_items(pairs):
    (lead,) = [p for p in pairs if p.kind == "list"]
    assert lead.query == "För att låna e-böcker och ljudböcker behöver du följande"
    assert lead.positive.splitlines() == [
        "ett giltigt bibliotekskort med en fyrsiffrig pinkod",
        "appen Biblio installerad på telefonen eller surfplattan",
        "en e-postadress som biblioteket kan skicka påminnelser till"]


def test_pairs_per_kind_and_the_held_out_split_are_stable(store, pairs):
    assert counts(pairs) == counts(mine_pairs(store))
    assert set(counts(pairs)) == {"heading", "question", "cloze", "list"}
    assert mine_pairs(store, ["cloze"]) == [p for p in pairs if p.kind == "cloze"]
    shares = [is_held_out("cloze", f"mening {i}") for i in range(2000)]
    assert 0.15 < np.mean(shares) < 0.25
    assert is_held_out("heading", "Öppettider") == is_held_out("heading", "öppettider")


def test_mining_some_kinds_gives_exactly_those_pairs_of_mining_all(store, pairs):
    # The ablations (bench/adapt_ablation.py) mine once and train on subsets: that must be what
    # `qa adapt --kinds` would have mined, pair for pair and with the same held-out split.
    kinds = ("heading", "question", "cloze", "list")
    for left_out in kinds:
        rest = [k for k in kinds if k != left_out]
        assert mine_pairs(store, [left_out]) == [p for p in pairs if p.kind == left_out]
        assert mine_pairs(store, rest) == [p for p in pairs if p.kind != left_out]


def test_question_shapes():
    assert is_question("Hur ansöker jag om bygglov?")
    assert is_question("Kan jag låna om en bok")
    assert is_question("Avgifter?")
    assert not is_question("Öppettider under sommaren")
    assert not is_question("Harmonisering av regler")  # 'har' only as a whole word


def test_bm25_negatives_are_other_passages_in_the_pairs_shape(store, pairs, hashed_adapt_index):
    lexical = LexicalIndex.load(generations.current(hashed_adapt_index).files.lexical)
    rows = bm25_negatives(pairs, store.passages, lexical, skip=0)
    for pair, row in zip(pairs, rows, strict=True):
        if row is None:
            continue
        other = store.passages[row]
        assert other.document_id != pair.document_id or abs(row - pair.row) > 1
        text = negative_text(pair, other)
        assert text.startswith(other.head) == (pair.kind == "cloze")
    assert any(r is not None for r in rows)


def test_both_sources_alternate_and_fill_each_others_gaps():
    assert choose([1, 2, None, 4], [5, None, 7, 8], 4) == [1, 2, 7, 8]
    assert choose(None, [5, None], 2) == [5, None]
    assert choose([1, 2], None, 2) == [1, 2]


def test_reciprocal_ranks_count_the_first_relevant_candidate_within_k():
    scores = np.array([[0.9, 0.5, 0.1], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    ranks = reciprocal_ranks(scores, [{0}, {0}, set()], k=2)
    assert ranks.tolist() == [1.0, 0.0, 0.0]
    assert reciprocal_ranks(scores, [{1}, {1}, {2}], k=3).tolist() == [0.5, 0.5, 1 / 3]


def _check(base, adapted, decisive=True):
    return Check("t", len(base), compare(base, adapted), compare(base, adapted), decisive)


def test_adoption_needs_every_deciding_interval_above_zero():
    better = _check([0.0] * 30 + [0.5] * 30, [1.0] * 60)
    mixed = _check([0.0, 1.0] * 30, [1.0, 0.0] * 30)
    assert decide([better]).adopt
    refused = decide([better, mixed])
    assert not refused.adopt and "does not lie above 0" in refused.reason
    assert not decide([_check([0.0] * 10, [1.0] * 10, decisive=False)]).adopt
    assert "no check could decide" in decide([]).reason


def test_the_manifest_names_the_adapted_model_only_for_its_base(hashed_adapt_index):
    from qa.index.manifest import read_manifest

    manifest = read_manifest(hashed_adapt_index)
    assert manifest.adaptation is None
    assert manifest.model_for("hashed-ngrams") == "hashed-ngrams"
    adapted = manifest.model_copy(update={"model": "/x/models/adapted-1",
                                          "adaptation": {"base": "hashed-ngrams"}})
    assert adapted.model_for("hashed-ngrams") == "/x/models/adapted-1"
    assert adapted.model_for("another/model") == "another/model"
