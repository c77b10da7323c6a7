"""Ways to combine the dense and BM25 scores of a question's candidates into one order.

The default, ``convex`` (dense score plus a small share of BM25 relative to the best BM25
hit), lives in the engine. The alternatives here take a question's ``Candidates`` (every
candidate with its exact BM25, not only those in BM25's own top list):

* ``minmax``: each score scaled to [0, 1] over the candidates, BM25 with a weight;
* ``zscore``: each score standardised over the candidates, BM25 with a weight;
* ``rrf``: reciprocal rank fusion, ``1 / (k + dense rank) + weight / (k + BM25 rank)``;
* ``learned``: a logistic model over ``qa.search.features`` (weights fitted offline by
  ``bench.studies.ranking_experiments`` and stored as plain numbers in JSON, so serving needs
  no machine-learning library).

Each returns one score per candidate, higher is better.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.search.features import FEATURES, Candidates

SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "fusion_weights.json"


def minmax(values: np.ndarray) -> np.ndarray:
    """``values`` scaled to [0, 1]; all zeros when they are all equal."""
    if len(values) == 0:
        return np.zeros(0)
    lo, hi = float(values.min()), float(values.max())
    return (values - lo) / (hi - lo) if hi > lo else np.zeros(len(values))


def zscore(values: np.ndarray) -> np.ndarray:
    """``values`` standardised (mean 0, deviation 1); all zeros when they are all equal."""
    if len(values) == 0:
        return np.zeros(0)
    sd = float(values.std())
    return (values - values.mean()) / sd if sd > 0 else np.zeros(len(values))


def reciprocal_ranks(values: np.ndarray, k: float, present: np.ndarray | None = None) -> np.ndarray:
    """``1 / (k + rank)`` by ``values`` (largest first); 0 where ``present`` is False."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    out = 1.0 / (k + ranks)
    return out if present is None else np.where(present, out, 0.0)


@dataclass(frozen=True)
class LearnedFusion:
    """A logistic model over ``FEATURES``: score = sigmoid(features · weights + bias)."""

    weights: np.ndarray
    bias: float

    @classmethod
    def load(cls, path: Path | None = None) -> LearnedFusion:
        """Read weights written by ``save``; ``path`` None = the shipped ones."""
        path = path or SHIPPED_WEIGHTS
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            names, weights, bias = data["features"], data["weights"], float(data["bias"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise QAError(f"{path}: not readable fusion weights ({exc})") from None
        if list(names) != list(FEATURES) or len(weights) != len(FEATURES):
            raise QAError(f"{path}: the weights are for features {names}, the engine computes "
                          f"{list(FEATURES)}; fit them again (python -m bench.studies.ranking_experiments)")
        return cls(np.asarray(weights, np.float64), bias)

    def save(self, path: Path, about: dict[str, object] | None = None) -> None:
        data = {"features": list(FEATURES), "weights": [round(float(w), 6) for w in self.weights],
                "bias": round(self.bias, 6), **(about or {})}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def score(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ self.weights + self.bias)))


def fuse(method: str, c: Candidates, weight: float, rrf_k: float,
         learned: np.ndarray | None = None) -> np.ndarray:
    """One score per candidate by ``method``; ``learned``: the learned model's scores."""
    if method == "minmax":
        return minmax(c.dense) + weight * minmax(c.bm25)
    if method == "zscore":
        return zscore(c.dense) + weight * zscore(c.bm25)
    if method == "rrf":
        return (reciprocal_ranks(c.dense, rrf_k)
                + weight * reciprocal_ranks(c.bm25, rrf_k, c.bm25 > 0))
    if method == "learned" and learned is not None:
        return learned
    raise QAError(f"unknown fusion {method!r}")
