"""Rows as monitoring stores them, written directly: snapshots, minute/hour rollups, active-user days."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitoring import histogram
from monitoring.models import MetricRollup, RequestRollup, SystemSnapshot, Tier


def snapshot(at: datetime, *, host: str = "web-1", **values: Any) -> SystemSnapshot:
    return SystemSnapshot.objects.create(timestamp=at, host=host, **values)


def metric_rollup(at: datetime, metric: str, values: list[float], *, tier: str = Tier.MINUTE,
                  host: str = "web-1") -> MetricRollup:
    return MetricRollup.objects.create(tier=tier, bucket=at, host=host, metric=metric, count=len(values),
                                       sum=sum(values), min=min(values), max=max(values))


def latencies_histogram(seconds: list[float]) -> list[int]:
    counts = histogram.empty(histogram.LATENCY_BOUNDS)
    for value in seconds:
        counts[histogram.bucket_index(histogram.LATENCY_BOUNDS, value)] += 1
    return counts


def request_rollup(at: datetime, *, route: str = "upload-list", method: str = "GET", tier: str = Tier.MINUTE,
                   latencies: list[float], statuses: dict[int, int] | None = None) -> RequestRollup:
    """`latencies` in seconds, one per request; `statuses` default: every request a 200."""
    statuses = statuses or {200: len(latencies)}
    assert sum(statuses.values()) == len(latencies)
    return RequestRollup.objects.create(
        tier=tier, bucket=at, method=method, route=route, count=len(latencies),
        client_errors=sum(n for s, n in statuses.items() if 400 <= s < 500),
        server_errors=sum(n for s, n in statuses.items() if s >= 500),
        statuses={str(s): n for s, n in statuses.items()},
        duration_us=int(sum(latencies) * 1_000_000), histogram=latencies_histogram(latencies),
    )
