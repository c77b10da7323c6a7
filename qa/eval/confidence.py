"""How sure a figure is: bootstrap intervals over questions, and paired comparisons.

A test set of a few hundred questions measures a mean with an error of several
points; a change is only called better when the difference holds across
resamplings of the questions. Both use ``scipy.stats.bootstrap`` (percentile
intervals, a fixed seed so a report is reproducible); a paired comparison
resamples the per-question *differences* of two runs over the same questions,
which is far tighter than comparing two independent intervals.

In: one value per question (1/0 for a hit, the reciprocal rank, ...). Out:
``Interval`` (mean with its 95 % interval) and ``Comparison`` (mean difference,
its interval and the verdict).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
SEED = 20261128  # fixed: the same data always give the same interval

Verdict = Literal["better", "worse", "no clear difference"]


@dataclass(frozen=True)
class Interval:
    """A mean over questions with its bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    def to_json(self) -> dict[str, float | int]:
        return {"mean": round(self.mean, 4), "low": round(self.low, 4),
                "high": round(self.high, 4), "n": self.n}

    def text(self) -> str:
        """``0.812 [0.760, 0.858]``: how reports print it."""
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclass(frozen=True)
class Comparison:
    """Run B minus run A over the same questions: mean difference, its interval, the verdict."""

    a: float
    b: float
    difference: Interval

    @property
    def verdict(self) -> Verdict:
        """"better" only when the whole interval of B − A lies above 0, "worse" below 0."""
        if self.difference.low > 0:
            return "better"
        if self.difference.high < 0:
            return "worse"
        return "no clear difference"

    def to_json(self) -> dict[str, object]:
        return {"a": round(self.a, 4), "b": round(self.b, 4),
                "difference": self.difference.to_json(), "verdict": self.verdict}


def _bootstrap(values: np.ndarray) -> tuple[float, float]:
    from scipy.stats import bootstrap

    if len(values) < 2 or np.all(values == values[0]):
        v = float(values[0]) if len(values) else float("nan")
        return v, v  # no spread to resample: the interval is the point
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on near-degenerate samples; the interval stands
        res = bootstrap((values,), np.mean, n_resamples=RESAMPLES, confidence_level=LEVEL,
                        method="percentile", vectorized=True, axis=-1,
                        rng=np.random.default_rng(SEED))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def interval(values: Sequence[float] | np.ndarray) -> Interval:
    """The mean of per-question ``values`` with its 95 % percentile-bootstrap interval."""
    arr = np.asarray(values, dtype=np.float64)
    if len(arr) == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    low, high = _bootstrap(arr)
    return Interval(float(arr.mean()), low, high, len(arr))


def compare(a: Sequence[float], b: Sequence[float]) -> Comparison:
    """Paired comparison of two runs' per-question values, given in the same question order."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"paired values need the same questions: {len(x)} against {len(y)}")
    return Comparison(float(x.mean()) if len(x) else float("nan"),
                      float(y.mean()) if len(y) else float("nan"), interval(y - x))
