"""Fixed-bucket histograms, as Prometheus keeps them (no Django).

Counts are kept per bucket (not cumulative) so that two histograms add up field by
field, in a process, in Redis (HINCRBY) and in the rollup tables alike. Bucket `i`
holds the observations `bounds[i-1] < v <= bounds[i]`; the last one is +Inf.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# Seconds. Prometheus' client defaults, plus 7.5 s, so p99 of a slow endpoint stays readable.
LATENCY_BOUNDS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# Seconds: Celery tasks run from milliseconds to the time limit.
TASK_BOUNDS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def bucket_index(bounds: Sequence[float], value: float) -> int:
    """The bucket of `value`: the first bound >= value, or len(bounds) for +Inf."""
    return bisect_left(bounds, value)


def empty(bounds: Sequence[float]) -> list[int]:
    return [0] * (len(bounds) + 1)


def merge(into: list[int], other: Sequence[int]) -> list[int]:
    """Add `other` to `into` in place (a shorter list counts as zeros) and return it."""
    if len(other) > len(into):
        into.extend([0] * (len(other) - len(into)))
    for i, count in enumerate(other):
        into[i] += int(count)
    return into


def cumulative(counts: Sequence[int]) -> list[int]:
    total = 0
    result = []
    for count in counts:
        total += int(count)
        result.append(total)
    return result


def quantile(bounds: Sequence[float], counts: Sequence[int], q: float) -> float | None:
    """The q-quantile (0..1) estimated like PromQL's histogram_quantile: linear within a bucket.

    None without observations. In the +Inf bucket the answer is the highest finite bound,
    which is what Prometheus returns too (the histogram cannot say more).
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be within [0, 1]")
    total = sum(int(c) for c in counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, count in enumerate(counts):
        if count and seen + count >= rank:
            if i >= len(bounds):
                return float(bounds[-1])
            lower = 0.0 if i == 0 else float(bounds[i - 1])
            upper = float(bounds[i])
            return lower + (upper - lower) * max(0.0, rank - seen) / count
        seen += int(count)
    return float(bounds[-1])
