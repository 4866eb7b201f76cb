"""Summaries of repeated measurements: medians, 95th percentiles and ratios."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation), or NaN for no values."""
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean and max in milliseconds, with the sample count."""
    ms = [value * 1000.0 for value in seconds]
    return {
        "p50": round(percentile(ms, 50), 3),
        "p95": round(percentile(ms, 95), 3),
        "mean": round(float(np.mean(ms)), 3) if ms else float("nan"),
        "max": round(max(ms), 3) if ms else float("nan"),
        "n": len(ms),
    }


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return percentile(values, 50)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is zero or missing."""
    if not denominator or denominator != denominator:
        return float("nan")
    return round(numerator / denominator, 3)


def timed(function: Callable[[], T]) -> tuple[T, float]:
    """The function's result and how long it took, in seconds."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start
