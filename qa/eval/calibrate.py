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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.errors import QAError
from qa.eval.testset import EvalQuery
from qa.search.abstention import AbstentionModel, Signals
from qa.search.engine import SearchEngine

MAX_FLAGGED = 0.04  # answerable questions flagged at most, out of fold (the issue allows 5 %)
_FOLDS = 5
_C = 0.1  # strong regularisation: a few hundred questions, three signals


@dataclass(frozen=True)
class Labelled:
    """One question's signals and whether the collection answers it."""

    id: str
    split: str | None
    signals: Signals
    answerable: bool


def collect(engine: SearchEngine, queries: Sequence[EvalQuery], mode: str | None = None
            ) -> list[Labelled]:
    """Search each question as served and keep the signals abstention decides on."""
    out = []
    for q in queries:
        result = engine.search(q.question, mode=mode, highlights=False)
        if result.signals is not None:  # no hit at all is "no good match" without a model
            out.append(Labelled(q.id, q.split, result.signals, q.answerable))
    return out


def fit(data: Sequence[Labelled], max_flagged: float = MAX_FLAGGED, fitted_on: str = ""
        ) -> AbstentionModel:
    """A logistic regression on ``data`` with its threshold from out-of-fold probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = np.array([d.signals.vector() for d in data], dtype=np.float64)
    y = np.array([not d.answerable for d in data], dtype=int)  # 1 = not answered
    if y.sum() < _FOLDS or (1 - y).sum() < _FOLDS:
        raise QAError(f"calibration needs at least {_FOLDS} answerable and {_FOLDS} unanswerable "
                      f"questions; got {(1 - y).sum()} and {y.sum()}")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    model = LogisticRegression(C=_C, class_weight="balanced", max_iter=1000)
    folds = StratifiedKFold(_FOLDS, shuffle=True, random_state=0)
    oof = cross_val_predict(model, z, y, cv=folds, method="predict_proba")[:, 1]
    answered = np.sort(oof[y == 0])
    allowed = int(np.floor(max_flagged * len(answered)))  # this many may reach the threshold
    threshold = float(np.nextafter(answered[len(answered) - allowed - 1], np.inf))
    model.fit(z, y)
    return AbstentionModel(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]),
                           tuple(float(m) for m in mean), tuple(float(s) for s in scale),
                           threshold, fitted_on)


def flagged_shares(model: AbstentionModel, data: Sequence[Labelled]) -> dict[str, float]:
    """Share of answerable and of unanswerable questions the model flags."""
    out = {}
    for name, want in (("answerable", True), ("unanswerable", False)):
        group = [d for d in data if d.answerable == want]
        if group:
            out[name] = sum(model.flags(d.signals) for d in group) / len(group)
    return out
