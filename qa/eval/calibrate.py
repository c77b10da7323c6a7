"""Fitting the abstention model (``qa.search.abstention``) on labelled questions.

In: questions with and without answers, each searched once by the serving
engine so its ``Signals`` are exactly those the service will decide on. Out: an
``AbstentionModel``: a logistic regression (scikit-learn, used only here, never
when serving) over standardised signals, and a threshold on its probability.

The threshold is the point of the trade-off the issue asks for: it is set from
*out-of-fold* probabilities (stratified cross-validation), so that at most
``max_flagged`` of the answerable questions would be flagged by a model that
had not seen them; what it then flags of the unanswerable ones is reported,
not chosen.

Fitted on several collections at once (one test set per index), each
collection weighs the same in the fit however many questions it has, and the
threshold holds ``max_flagged`` in *every* collection, not only on the pooled
questions: one collection whose answered questions all look doubtful (a
manual of near-alike pages) would otherwise have many of them flagged while
the pool stays within bounds. The decision is then no collection's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.errors import QAError
from qa.eval.testset import EvalQuery
from qa.search.abstention import FEATURES, AbstentionModel, Signals
from qa.search.engine import SearchEngine

MAX_FLAGGED = 0.04  # answerable questions flagged at most, out of fold (the issue allows 5 %)
_FOLDS = 5
_C = 0.1  # strong regularisation: a few hundred questions, four signals


@dataclass(frozen=True)
class Labelled:
    """One question's signals and whether the collection answers it."""

    id: str
    split: str | None
    signals: Signals
    answerable: bool
    collection: str = ""  # which collection (test set) it comes from


def collect(engine: SearchEngine, queries: Sequence[EvalQuery], mode: str | None = None,
            collection: str = "") -> list[Labelled]:
    """Search each question as served and keep the signals abstention decides on."""
    out = []
    for q in queries:
        result = engine.search(q.question, mode=mode, highlights=False)
        if result.signals is not None:  # no hit at all is "no good match" without a model
            out.append(Labelled(q.id, q.split, result.signals, q.answerable, collection))
    return out


def fit(data: Sequence[Labelled], max_flagged: float = MAX_FLAGGED, fitted_on: str = "",
        features: Sequence[str] = FEATURES) -> AbstentionModel:
    """A logistic regression on ``data`` over ``features`` (a subset of ``Signals``'), with
    its threshold from out-of-fold probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    x = np.array([d.signals.vector(features) for d in data], dtype=np.float64)
    y = np.array([not d.answerable for d in data], dtype=int)  # 1 = not answered
    if y.sum() < _FOLDS or (1 - y).sum() < _FOLDS:
        raise QAError(f"calibration needs at least {_FOLDS} answerable and {_FOLDS} unanswerable "
                      f"questions; got {(1 - y).sum()} and {y.sum()}")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    groups = np.array([d.collection for d in data])
    weight = np.ones(len(data))
    for g in np.unique(groups):  # every collection weighs the same
        weight[groups == g] = len(data) / (len(np.unique(groups)) * (groups == g).sum())
    model = LogisticRegression(C=_C, class_weight="balanced", max_iter=1000)
    folds = StratifiedKFold(_FOLDS, shuffle=True, random_state=0)
    oof = np.zeros(len(data))
    for train, test in folds.split(z, y):
        model.fit(z[train], y[train], sample_weight=weight[train])
        oof[test] = model.predict_proba(z[test])[:, 1]
    threshold = max(_threshold(oof[(y == 0) & (groups == g)], max_flagged)
                    for g in np.unique(groups[y == 0]))
    model.fit(z, y, sample_weight=weight)
    return AbstentionModel(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]),
                           tuple(float(m) for m in mean), tuple(float(s) for s in scale),
                           threshold, fitted_on, tuple(features))


def _threshold(answered: np.ndarray, max_flagged: float) -> float:
    """The lowest threshold that flags at most ``max_flagged`` of ``answered`` (probabilities
    of answered questions)."""
    ordered = np.sort(answered)
    allowed = int(np.floor(max_flagged * len(ordered)))  # this many may reach the threshold
    return float(np.nextafter(ordered[len(ordered) - allowed - 1], np.inf))


def flagged_shares(model: AbstentionModel, data: Sequence[Labelled]) -> dict[str, float]:
    """Share of answerable and of unanswerable questions the model flags."""
    out = {}
    for name, want in (("answerable", True), ("unanswerable", False)):
        group = [d for d in data if d.answerable == want]
        if group:
            out[name] = sum(model.flags(d.signals) for d in group) / len(group)
    return out
