"""Statistics over rounds and the ratios between rows."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Median and range of the rounds of one cell."""

    median: float
    low: float
    high: float
    rounds: int


def summarize(values: list[float]) -> Summary | None:
    """The median, min and max of the values, or None when there are none."""
    if not values:
        return None
    return Summary(statistics.median(values), min(values), max(values), len(values))


def speedup(this: float, other: float, lower_is_better: bool) -> float:
    """How many times better `this` is than `other` (above 1: better, below 1: worse)."""
    return other / this if lower_is_better else this / other


def cost_multiple(value: float, reference: float) -> float:
    """`value` as a multiple of a reference cost (the floor, or the ideal time)."""
    return value / reference


def scaling_ratio(
    per_item_small: float, n_small: int, per_item_large: float, n_large: int
) -> float:
    """Total cost at the large size over the small one (linear growth: n_large / n_small)."""
    return (per_item_large * n_large) / (per_item_small * n_small)


def percentiles(samples: list[float], ranks: tuple[int, ...]) -> list[float]:
    """The nearest-rank percentiles of the samples (p50 of 200 samples is the 100th smallest)."""
    ordered = sorted(samples)
    return [ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)] for rank in ranks]
