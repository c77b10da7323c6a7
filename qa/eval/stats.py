"""Percentiles of timings, for the evaluation's latency figures and the speed benchmarks alike.

One definition everywhere: numpy's default linear interpolation between the two
nearest ranks (so the 50th percentile is the median).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``; nan when there are none."""
    if len(values) == 0:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))
