"""Report arithmetic on plain numbers (no Django): percentiles, Apdex, deltas, route merging."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from monitoring import histogram
from monitoring.aggregator import RequestStats, latency_ms

# Apdex target: satisfied up to T, tolerating up to 4T. Both are bucket bounds of
# histogram.LATENCY_BOUNDS (0.25 s and 1 s), so the score is exact, not interpolated.
APDEX_T_SECONDS = 0.25


def nearest_rank(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-quantile of a sorted list by nearest rank (an observed value, not an interpolation)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return float(sorted_values[rank - 1])


def apdex(counts: Sequence[int], t_seconds: float = APDEX_T_SECONDS) -> float | None:
    """(satisfied + tolerating / 2) / all, from a latency histogram; None without requests."""
    bounds = histogram.LATENCY_BOUNDS
    if t_seconds not in bounds or 4 * t_seconds not in bounds:
        raise ValueError("Apdex T and 4T must be bucket bounds")
    total = sum(counts)
    if not total:
        return None
    satisfied = sum(counts[: bounds.index(t_seconds) + 1])
    tolerating = sum(counts[bounds.index(t_seconds) + 1: bounds.index(4 * t_seconds) + 1])
    return round((satisfied + tolerating / 2) / total, 4)


def change(current: float | int | None, previous: float | int | None) -> dict[str, float | None]:
    """Absolute and relative change from the previous period (percent; None from zero or unknown)."""
    if current is None or previous is None:
        return {"delta": None, "percent": None}
    delta = current - previous
    return {"delta": round(delta, 6), "percent": round(100 * delta / previous, 2) if previous else None}


def deltas(current: dict[str, Any], previous: dict[str, Any], keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`keys` may be dotted (`latency_ms.p95`)."""
    def pick(data: dict[str, Any], dotted: str) -> Any:
        for part in dotted.split("."):
            data = data.get(part) if isinstance(data, dict) else None  # type: ignore[assignment]
        return data

    return {key: change(pick(current, key), pick(previous, key)) for key in keys}


class RouteTotals:
    """One route's sums over many rollup rows (counts add; histograms add bucket by bucket)."""

    __slots__ = ("client_errors", "count", "duration_us", "histogram", "method", "route", "server_errors")

    def __init__(self, method: str, route: str) -> None:
        self.method, self.route = method, route
        self.count = self.server_errors = self.client_errors = self.duration_us = 0
        self.histogram = histogram.empty(histogram.LATENCY_BOUNDS)

    def add(self, count: int, server_errors: int, client_errors: int, duration_us: int, counts: Sequence[int]) -> None:
        self.count += count
        self.server_errors += server_errors
        self.client_errors += client_errors
        self.duration_us += duration_us
        histogram.merge(self.histogram, counts)

    def summary(self) -> dict[str, Any]:
        return {
            "method": self.method, "route": self.route, "requests": self.count,
            "server_errors": self.server_errors, "client_errors": self.client_errors,
            "error_rate": round(self.server_errors / self.count, 6) if self.count else 0.0,
            "latency_ms": latency_ms(RequestStats(count=self.count, duration_us=self.duration_us,
                                                  histogram=self.histogram)),
        }
