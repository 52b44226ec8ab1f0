"""The facts bottleneck detection judges, read from part 1's data: minute rollups (or the
latest sample) per host, routes over the last hour, the statements requests repeated, the
cache's counters, the Celery backlog's recent samples, the WebSocket channel queues."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Sum

from monitoring import channel_queues, redis_store, selectors
from monitoring.aggregator import SEP
from monitoring.insights.detect import Facts, HostFacts, RepeatedQuery, RouteFacts
from monitoring.models import MetricRollup, SystemSnapshot, Tier
from tecnocursos.cache.selectors import cache_stats

logger = logging.getLogger(__name__)

HOST_WINDOW = timedelta(minutes=15)
ROUTE_WINDOW = timedelta(hours=1)
QUEUE_WINDOW = timedelta(minutes=30)
REPEAT_DAYS = 2
HOST_METRICS = ("cpu_percent", "cpu_count", "load_1", "cpu_iowait_percent", "memory_percent", "swap_percent",
                "swap_in_bytes_per_second", "swap_out_bytes_per_second", "disk_read_bytes_per_second",
                "disk_write_bytes_per_second")
FIELD = {"cpu_iowait_percent": "iowait_percent"}


def _hosts(now: datetime) -> list[HostFacts]:
    """Averages over the last minutes from the minute rollups; hosts not rolled up yet use their latest sample."""
    rows = (MetricRollup.objects.filter(tier=Tier.MINUTE, labels="", metric__in=HOST_METRICS,
                                        bucket__gte=now - HOST_WINDOW, bucket__lt=now)
            .values("host", "metric").annotate(total=Sum("sum"), n=Sum("count"), minutes=Count("id")))
    values: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["n"]:
            host = values.setdefault(row["host"], {"minutes": 0})
            host[FIELD.get(row["metric"], row["metric"])] = row["total"] / row["n"]
            host["minutes"] = max(host["minutes"], row["minutes"])
    for snapshot in selectors.snapshots_latest_per_host():
        if snapshot.host not in values and selectors.snapshot_is_fresh(snapshot):
            values[snapshot.host] = {"minutes": 0, **{FIELD.get(m, m): getattr(snapshot, m) for m in HOST_METRICS}}
    return [HostFacts(host=host, **facts) for host, facts in sorted(values.items())]


def _routes(now: datetime) -> list[RouteFacts]:
    routes = selectors.request_routes(start=now - ROUTE_WINDOW, end=now, order="requests", limit=200)
    return [RouteFacts(method=r["method"], route=r["route"], requests=r["requests"], p95_ms=r["latency_ms"]["p95"],
                       avg_ms=r["latency_ms"]["avg"], queries_per_request=r["db_queries_per_request"],
                       db_ms_per_request=r["db_ms_per_request"]) for r in routes]


def _repeated(now: datetime) -> list[RepeatedQuery]:
    counts, shapes = redis_store.repeated_queries(days=REPEAT_DAYS, now=now.timestamp())
    grouped: dict[tuple[str, str, str], dict[str, int]] = {}
    for name, value in counts.items():
        parts = name.split(SEP)
        if len(parts) == 4:
            grouped.setdefault((parts[0], parts[1], parts[2]), {})[parts[3]] = value
    return [RepeatedQuery(method=method, route=route, shape_key=shape_key, sql=shapes.get(shape_key, "?"),
                          requests=c.get("r", 0), executions=c.get("x", 0))
            for (method, route, shape_key), c in sorted(grouped.items())]


def _cache() -> dict[str, float]:
    stats = cache_stats()
    return {"hits": stats["hits"], "misses": stats["misses"], "l1_items": stats["l1"]["items"],
            "l1_bytes": stats["l1"]["bytes"]}


def _queue(now: datetime) -> list[tuple[float, float]]:
    rows = (SystemSnapshot.objects.filter(timestamp__gte=now - QUEUE_WINDOW, timestamp__lte=now,
                                          celery_queue_length__isnull=False)
            .order_by("timestamp").values_list("timestamp", "celery_queue_length"))
    return [(at.timestamp(), float(length)) for at, length in rows]


def _safely(name: str, read: Callable[[], Any], default: Any) -> Any:
    try:
        return read()
    except Exception:  # Redis down, the cache misconfigured: the other facts still count
        logger.warning("insights: %s unavailable", name, exc_info=True)
        return default


def facts_read(*, now: datetime) -> Facts:
    return Facts(hosts=_hosts(now), routes=_routes(now),
                 repeated=_safely("repeated queries", lambda: _repeated(now), []),
                 cache=_safely("cache statistics", _cache, None), queue=_queue(now),
                 channels=_safely("channel queues", channel_queues.read, {}))
