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
  a near miss is similar in meaning to a passage that lacks them;
* the share of the question's words the collection has never used
  (``LexicalIndex.unknown_share``): a question about "BankID" or "LaTeX" in a
  manual that never names them is about something the manual does not cover,
  however close its nearest passage looks. It is measured against the
  collection's own vocabulary, so it carries from one collection to another
  where absolute similarities do not.

Other signals were tried and did not add to these on the tuning halves (the
design records list them): term coverage of the best passage, a missing answer
type, the spread of the top similarities, and the best similarity above the
collection's passage-to-nearest-passage level (that level rises with the
number of passages of one long manual, not with how well it answers).

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
FEATURES = ("similarity", "centroid", "agreement", "unknown")


@dataclass(frozen=True)
class Signals:
    """What the search knows about how well its best hit answers; see the module doc."""

    similarity: float  # the best hit's similarity (passage and sentence cosines mixed)
    centroid: float  # the question's cosine with the collection's mean passage vector
    agreement: float  # 1 / rank of the dense ranker's best passage in BM25's list (0: absent)
    unknown: float = 0.0  # share of the question's words the collection never uses

    def vector(self, features: Sequence[str] = FEATURES) -> list[float]:
        return [getattr(self, f) for f in features]


def signals(similarity: float, centroid: float, dense_best: int | None,
            lexical_rows: Sequence[int] | np.ndarray, unknown: float = 0.0) -> Signals:
    """The signals of one search: the best hit's similarity, the question's cosine with the
    collection's centroid, where BM25 ranks the dense ranker's best passage, and the share
    of the question's words absent from the collection."""
    agreement = 0.0
    if dense_best is not None:
        found = np.flatnonzero(np.asarray(lexical_rows) == dense_best)
        agreement = 1.0 / (int(found[0]) + 1) if len(found) else 0.0
    return Signals(similarity, centroid, agreement, unknown)


@dataclass(frozen=True)
class AbstentionModel:
    """A fitted logistic regression over standardised ``Signals`` and its decision threshold."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    fitted_on: str = ""  # what it was fitted on, for the reader of the JSON
    # The signals it weighs, in order: a subset of FEATURES (a model written before a signal
    # was added keeps working on the ones it was fitted on).
    features: tuple[str, ...] = FEATURES[:3]

    def probability(self, s: Signals) -> float:
        """The probability that the collection does not answer the question."""
        z = self.bias + sum(w * (x - m) / sc for w, x, m, sc in
                            zip(self.weights, s.vector(self.features), self.mean, self.scale,
                                strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def flags(self, s: Signals) -> bool:
        """Whether to say "no good match": the probability reaches the threshold."""
        return self.probability(s) >= self.threshold

    def save(self, path: Path) -> None:
        data = {"features": list(self.features),
                **{k: v for k, v in asdict(self).items() if k != "features"}}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | None = None) -> AbstentionModel:
        """Read a model written by ``save``; the bundled one when ``path`` is None."""
        path = path or BUNDLED_MODEL
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            features = tuple(data.pop("features"))
            unknown = [f for f in features if f not in FEATURES]
            if unknown or not features:
                raise ValueError(f"its features are not among {', '.join(FEATURES)}")
            values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
            model = cls(**values, features=features)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise QAError(f"{path}: not an abstention model written by `qa calibrate` ({exc})"
                          ) from None
        n = len(model.features)
        if not len(model.weights) == len(model.mean) == len(model.scale) == n:
            raise QAError(f"{path}: an abstention model needs one weight per feature ({n})")
        return model
