"""Abstention: deciding that the collection does not answer the question.

A dense model gives every question a nearest passage, and its cosine alone
separates poorly: "Vad kostar ett busskort?" lands near a parking policy at a
similarity many answered questions have. The decision therefore combines
signals the search already has (``Signals``):

* the best hit's similarity;
* the question's cosine with the collection's centroid (its mean passage
  vector): a question far from what the collection is about as a whole is
  rarely answered by it, however close its nearest passage looks;
* whether the two rankers agree: where BM25 ranks the passage the dense
  ranker likes best. An answered question's words tend to be in its answer;
  a near miss is similar in meaning to a passage that lacks them.

Other signals were tried and did not add to these on the tuning half (the
README's design note lists them): term coverage of the best passage, the
share of the question's words the collection knows, a missing answer type,
the spread of the top similarities.

A logistic regression turns them into the probability that the question is not
answered; ``no_good_match`` is that probability at or above the model's
threshold. The weights and the threshold are fitted by ``qa calibrate`` on a
labelled test set (answerable and unanswerable questions) with the threshold
chosen so that few answerable questions are flagged; the fitted model ships as
``abstention.json`` beside this module, and ``QA_ABSTENTION_MODEL`` names
another one (a collection's own calibration).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError

BUNDLED_MODEL = Path(__file__).resolve().parent / "abstention.json"
FEATURES = ("similarity", "centroid", "agreement")


@dataclass(frozen=True)
class Signals:
    """What the search knows about how well its best hit answers; see the module doc."""

    similarity: float  # the best hit's similarity (passage and sentence cosines mixed)
    centroid: float  # the question's cosine with the collection's mean passage vector
    agreement: float  # 1 / rank of the dense ranker's best passage in BM25's list (0: absent)

    def vector(self) -> list[float]:
        return [getattr(self, f) for f in FEATURES]


def signals(similarity: float, centroid: float, dense_best: int | None,
            lexical_rows: Sequence[int] | np.ndarray) -> Signals:
    """The signals of one search: the best hit's similarity, the question's cosine with the
    collection's centroid, and where BM25 ranks the dense ranker's best passage."""
    agreement = 0.0
    if dense_best is not None:
        found = np.flatnonzero(np.asarray(lexical_rows) == dense_best)
        agreement = 1.0 / (int(found[0]) + 1) if len(found) else 0.0
    return Signals(similarity, centroid, agreement)


@dataclass(frozen=True)
class AbstentionModel:
    """A fitted logistic regression over standardised ``Signals`` and its decision threshold."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    fitted_on: str = ""  # what it was fitted on, for the reader of the JSON

    def probability(self, s: Signals) -> float:
        """The probability that the collection does not answer the question."""
        z = self.bias + sum(w * (x - m) / sc for w, x, m, sc in
                            zip(self.weights, s.vector(), self.mean, self.scale, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def flags(self, s: Signals) -> bool:
        """Whether to say "no good match": the probability reaches the threshold."""
        return self.probability(s) >= self.threshold

    def save(self, path: Path) -> None:
        data = {"features": list(FEATURES), **asdict(self)}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | None = None) -> AbstentionModel:
        """Read a model written by ``save``; the bundled one when ``path`` is None."""
        path = path or BUNDLED_MODEL
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if tuple(data.pop("features")) != FEATURES:
                raise ValueError(f"its features are not {', '.join(FEATURES)}")
            values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
            model = cls(**values)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise QAError(f"{path}: not an abstention model written by `qa calibrate` ({exc})"
                          ) from None
        if not len(model.weights) == len(model.mean) == len(model.scale) == len(FEATURES):
            raise QAError(f"{path}: an abstention model needs {len(FEATURES)} weights")
        return model
