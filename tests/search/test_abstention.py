"""Abstention: the calibrated decision behind ``no_good_match``, its model file and its fitting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.errors import QAError
from qa.eval.calibrate import Labelled, fit, flagged_shares
from qa.search.abstention import FEATURES, AbstentionModel, Signals, signals


def test_signals_agreement_is_where_bm25_ranks_the_dense_best() -> None:
    assert signals(0.9, 0.8, 7, np.array([3, 7, 9])).agreement == 0.5
    assert signals(0.9, 0.8, 7, np.array([7])).agreement == 1.0
    assert signals(0.9, 0.8, 7, np.array([1, 2])).agreement == 0.0
    assert signals(0.9, 0.8, None, np.array([1])).agreement == 0.0


def _labelled(rng: np.random.Generator, n: int, answerable: bool) -> list[Labelled]:
    shift = 0.03 if answerable else 0.0
    return [Labelled(f"{'a' if answerable else 'u'}{i}", "tune",
                     Signals(0.84 + shift + rng.normal(0, 0.015), 0.86 + rng.normal(0, 0.01),
                             float(rng.random() < (0.7 if answerable else 0.3))), answerable)
            for i in range(n)]


def test_fit_keeps_false_flags_within_the_budget_and_catches_most_unanswerable() -> None:
    rng = np.random.default_rng(0)
    data = _labelled(rng, 200, True) + _labelled(rng, 60, False)
    model = fit(data, max_flagged=0.05)
    fresh = _labelled(np.random.default_rng(1), 400, True) + _labelled(
        np.random.default_rng(2), 200, False)
    shares = flagged_shares(model, fresh)
    assert shares["answerable"] <= 0.08  # the budget, up to sampling noise on unseen data
    assert shares["unanswerable"] >= 0.5
    assert model.weights[0] < 0  # a higher similarity means less likely unanswered
    tighter = fit(data, max_flagged=0.01)
    assert tighter.threshold > model.threshold


def test_fit_refuses_too_few_examples_of_either_kind() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(QAError, match="at least 5 answerable and 5 unanswerable"):
        fit(_labelled(rng, 50, True) + _labelled(rng, 3, False))


def test_model_round_trips_and_bad_files_are_clear_errors(tmp_path) -> None:
    model = AbstentionModel((-1.0, -0.5, -0.2), 0.1, (0.86, 0.87, 0.5), (0.02, 0.02, 0.4), 0.7,
                            "test")
    model.save(tmp_path / "m.json")
    again = AbstentionModel.load(tmp_path / "m.json")
    assert again == model
    s = Signals(0.80, 0.83, 0.0)
    assert again.probability(s) == model.probability(s) and model.flags(s)
    assert not model.flags(Signals(0.90, 0.88, 1.0))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(QAError, match="not an abstention model"):
        AbstentionModel.load(tmp_path / "bad.json")
    data = json.loads((tmp_path / "m.json").read_text())
    data["features"] = ["similarity", "centroid", "bogus"]
    (tmp_path / "other.json").write_text(json.dumps(data))
    with pytest.raises(QAError, match="features are not"):
        AbstentionModel.load(tmp_path / "other.json")
    data["features"] = ["similarity", "centroid"]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(QAError, match="one weight per feature"):
        AbstentionModel.load(tmp_path / "short.json")
    # The bundled model loads and weighs every signal, the collection's vocabulary included.
    assert AbstentionModel.load().features == FEATURES and "unknown" in FEATURES


def test_a_model_weighs_only_the_signals_it_was_fitted_on() -> None:
    old = AbstentionModel((-1.0, -0.5, -0.2), 0.1, (0.86, 0.87, 0.5), (0.02, 0.02, 0.4), 0.7)
    s = Signals(0.80, 0.83, 0.0, unknown=1.0)
    assert old.probability(s) == old.probability(Signals(0.80, 0.83, 0.0))
    new = AbstentionModel((-1.0, -0.5, -0.2, 2.0), 0.1, (0.86, 0.87, 0.5, 0.2),
                          (0.02, 0.02, 0.4, 0.2), 0.7, features=FEATURES)
    assert new.probability(s) > new.probability(Signals(0.80, 0.83, 0.0))


def test_the_threshold_holds_the_budget_in_every_collection() -> None:
    # Collection "b"'s answered questions all look doubtful (lower similarities): a pooled
    # threshold would flag many of them; the fitted one flags at most the budget in each.
    rng = np.random.default_rng(3)
    a = [Labelled(d.id, d.split, d.signals, d.answerable, "a")
         for d in _labelled(rng, 150, True) + _labelled(rng, 40, False)]
    b = [Labelled("b" + d.id, d.split, Signals(d.signals.similarity - 0.02, d.signals.centroid,
                                                d.signals.agreement), d.answerable, "b")
         for d in _labelled(rng, 40, True) + _labelled(rng, 15, False)]
    answered_b = [d for d in b if d.answerable]
    model = fit(a + b, max_flagged=0.05)
    pooled = fit([Labelled(d.id, d.split, d.signals, d.answerable) for d in a + b], 0.05)
    assert (flagged_shares(model, answered_b)["answerable"] <= 0.05
            < flagged_shares(pooled, answered_b)["answerable"])


def test_off_topic_questions_are_flagged_and_clear_ones_are_not(engine) -> None:
    for question in ("Vad kostar ett busskort?", "Vilka regler gäller för hundar i parken?",
                     "Vad är huvudstaden i Australien?", "Hur kokar man ägg?"):
        result = engine.search(question, 5)
        assert result.no_good_match and result.hits, question  # candidates still come back
        assert result.unanswered >= engine.abstention.threshold
    for question in ("Hur många länsstyrelser finns det?",
                     "Vem är ordförande för regionstyrelsen i Region Kronoberg?"):
        result = engine.search(question, 5)
        assert not result.no_good_match, question
        # The decision does not depend on how many hits were asked for.
        assert engine.search(question, 1).no_good_match == result.no_good_match
