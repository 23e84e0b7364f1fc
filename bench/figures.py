"""How the benchmarks report their figures: percentiles, and whether a goal is met."""

from __future__ import annotations

import statistics


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` percentile of ``values`` (linear interpolation)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(fraction * 1000) - 1]


def verdict(ok: bool) -> str:
    """Say whether a goal is met, in the word the scripts print."""
    return "PASS" if ok else "MISS"
