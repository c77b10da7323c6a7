"""Abstention: deciding that the collection does not answer the question.

A dense model gives every question a nearest passage, and its cosine alone
separates poorly: "Vad kostar ett busskort?" lands near a parking policy at a
similarity many answered questions have. The decision therefore combines
signals the search already has (``Signals``):

* the best hit's similarity, and how far it stands above the fifth;
* how much of the question (idf-weighted) the best passage contains, and how
  much of it the collection knows at all ("busskort" is in no passage);
* whether the question asks for a kind of answer (a date, a number, an amount,
  a name, a place) that the best passage does not hold.

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

from qa.errors import QAError
from qa.index.lexical import SwedishAnalyzer
from qa.search.answer_types import AnswerType, has_answer_type

BUNDLED_MODEL = Path(__file__).resolve().parent / "abstention.json"
FEATURES = ("similarity", "spread", "coverage", "known", "type_missing")
SIGNAL_DEPTH = 5  # hits the signals look at: the spread is best minus fifth


@dataclass(frozen=True)
class Signals:
    """What the search knows about how well its best hit answers; see the module doc."""

    similarity: float  # the best hit's similarity (passage and sentence cosines mixed)
    spread: float  # best similarity minus that of the fifth hit (or the last, with fewer)
    coverage: float  # idf-weighted share of the question's words found in the best passage
    known: float  # share of the question's words the collection holds anywhere
    type_missing: float  # 1.0 when the answer type asked for is absent from the best passage

    def vector(self) -> list[float]:
        return [getattr(self, f) for f in FEATURES]


def signals(analyzer: SwedishAnalyzer, idf: dict[str, float], question: str,
            similarities: Sequence[float], best_text: str, passage_terms: frozenset[str],
            answer_type: AnswerType | None) -> Signals:
    """The signals of one search from its hits' similarities (best first) and its best passage.

    ``passage_terms``: the best passage's analysed terms; ``idf`` the lexical index's, where an
    unknown word weighs as much as the rarest known one.
    """
    rarest = max(idf.values(), default=1.0)
    words = analyzer.word_terms(question)
    total = covered = known = 0.0
    for stem, parts in words:
        weight = idf.get(stem, rarest)
        total += weight
        if stem in passage_terms or (parts and all(p in passage_terms for p in parts)):
            covered += weight
        known += stem in idf or bool(parts and all(p in idf for p in parts))
    n = len(similarities)
    spread = similarities[0] - similarities[min(n, SIGNAL_DEPTH) - 1] if n else 0.0
    missing = answer_type is not None and not has_answer_type(best_text, answer_type)
    return Signals(similarity=similarities[0] if n else 0.0, spread=spread,
                   coverage=covered / total if total else 0.0,
                   known=known / len(words) if words else 0.0, type_missing=float(missing))


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
            model = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise QAError(f"{path}: not an abstention model written by `qa calibrate` ({exc})"
                          ) from None
        if not len(model.weights) == len(model.mean) == len(model.scale) == len(FEATURES):
            raise QAError(f"{path}: an abstention model needs {len(FEATURES)} weights")
        return model
