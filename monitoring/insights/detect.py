"""Bottleneck detection: findings, each with its evidence and a concrete recommendation (no Django).

`detect(facts)` looks at what part 1 measures — the machine over the last minutes, routes over
the last hour, statements requests repeated, the cache's hit rate, the Celery backlog's trend,
the WebSocket channel queues — and returns what limits the service. Thresholds are those of
common practice (node_exporter's mixin, Netdata's alarms) and can be changed per call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class Thresholds:
    cpu_percent: float = 85.0
    load_per_core: float = 2.0
    iowait_percent: float = 20.0
    memory_percent: float = 90.0
    swap_bytes_per_second: float = 1 * MIB  # swapping in or out this fast degrades everything
    swap_percent: float = 50.0
    slow_p95_ms: float = 1000.0
    min_route_requests: int = 20
    queries_per_request: float = 30.0
    n_plus_one_requests: int = 10  # requests that repeated one statement shape
    cache_hit_rate: float = 0.5
    min_cache_lookups: int = 1000
    queue_backlog: float = 50.0
    queue_growth_per_minute: float = 1.0
    channel_fill: float = 0.8


@dataclass(frozen=True)
class HostFacts:
    host: str
    minutes: int  # how much the averages cover
    cpu_percent: float | None = None
    cpu_count: float | None = None
    load_1: float | None = None
    iowait_percent: float | None = None
    memory_percent: float | None = None
    swap_percent: float | None = None
    swap_in_bytes_per_second: float | None = None
    swap_out_bytes_per_second: float | None = None
    disk_read_bytes_per_second: float | None = None
    disk_write_bytes_per_second: float | None = None


@dataclass(frozen=True)
class RouteFacts:
    method: str
    route: str
    requests: int
    p95_ms: float | None
    avg_ms: float | None
    queries_per_request: float | None
    db_ms_per_request: float | None


@dataclass(frozen=True)
class RepeatedQuery:
    method: str
    route: str
    shape_key: str
    sql: str
    requests: int  # requests that ran this shape many times
    executions: int  # its executions in those requests


@dataclass(frozen=True)
class Facts:
    hosts: Sequence[HostFacts] = ()
    routes: Sequence[RouteFacts] = ()
    repeated: Sequence[RepeatedQuery] = ()
    cache: dict[str, float] | None = None  # hits, misses, l1_bytes, l1_items
    queue: Sequence[tuple[float, float]] = ()  # (UNIX time, tasks waiting), oldest first
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # per server: max_fill, near_capacity, ...


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    severity: str  # info, warning, critical
    title: str
    evidence: dict[str, Any]
    recommendation: str


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _cpu(host: HostFacts, t: Thresholds) -> list[Finding]:
    per_core = host.load_1 / host.cpu_count if host.load_1 is not None and host.cpu_count else None
    busy = host.cpu_percent is not None and host.cpu_percent >= t.cpu_percent
    queued = per_core is not None and per_core >= t.load_per_core
    if not (busy or queued):
        return []
    return [Finding(
        "cpu_saturation", host.host, "critical" if busy and queued else "warning",
        f"CPU saturated on {host.host}",
        {"cpu_percent": _round(host.cpu_percent), "load_1": _round(host.load_1), "cores": host.cpu_count,
         "load_per_core": _round(per_core), "minutes": host.minutes},
        "Find the busiest processes (the snapshot's per-process CPU); add Celery concurrency only if CPU is not "
        "the limit; otherwise move heavy work to workers on other hosts, cache expensive views, or add cores.")]


def _memory(host: HostFacts, t: Thresholds) -> list[Finding]:
    if host.memory_percent is None or host.memory_percent < t.memory_percent:
        return []
    return [Finding(
        "memory_pressure", host.host, "critical" if host.memory_percent >= 97 else "warning",
        f"Memory pressure on {host.host}",
        {"memory_percent": _round(host.memory_percent), "swap_percent": _round(host.swap_percent),
         "minutes": host.minutes},
        "Lower the L1 cache's CACHE_L1_MAX_BYTES or the Celery concurrency, restart processes whose resident "
        "memory keeps growing (a leak), or add memory. The optimizer can trim L1 under pressure "
        "(MONITORING_OPTIMIZER_ACTIONS: l1_trim).")]


def _swap(host: HostFacts, t: Thresholds) -> list[Finding]:
    rate = (host.swap_in_bytes_per_second or 0.0) + (host.swap_out_bytes_per_second or 0.0)
    heavy = rate >= t.swap_bytes_per_second
    full = host.swap_percent is not None and host.swap_percent >= t.swap_percent
    if not heavy and not (full and rate > 0):
        return []
    return [Finding(
        "swapping", host.host, "critical" if heavy else "warning", f"Swapping on {host.host}",
        {"swap_in_bytes_per_second": _round(host.swap_in_bytes_per_second),
         "swap_out_bytes_per_second": _round(host.swap_out_bytes_per_second),
         "swap_percent": _round(host.swap_percent), "memory_percent": _round(host.memory_percent)},
        "The machine is paging: every process slows down. Reduce memory use (fewer worker processes, a smaller "
        "L1 cache) or add memory; swap is a safety net, not capacity.")]


def _disk_io(host: HostFacts, t: Thresholds) -> list[Finding]:
    if host.iowait_percent is None or host.iowait_percent < t.iowait_percent:
        return []
    return [Finding(
        "disk_io_saturation", host.host, "warning", f"Disk I/O saturated on {host.host}",
        {"iowait_percent": _round(host.iowait_percent),
         "read_bytes_per_second": _round(host.disk_read_bytes_per_second),
         "write_bytes_per_second": _round(host.disk_write_bytes_per_second), "minutes": host.minutes},
        "CPUs are waiting on the disk. Look for bulk writers (backups, log bursts, uploads' processing); "
        "schedule them off-peak, move the database or var/ to faster storage, or add RAM for the page cache.")]


def _slow_routes(routes: Sequence[RouteFacts], t: Thresholds) -> list[Finding]:
    findings = []
    for route in routes:
        if route.requests < t.min_route_requests or route.p95_ms is None or route.p95_ms < t.slow_p95_ms:
            continue
        db_share = (route.db_ms_per_request / route.avg_ms) if route.db_ms_per_request and route.avg_ms else None
        advice = ("Most of the time is in the database: add an index for its filters, select only the columns "
                  "used, or cache the result." if db_share is not None and db_share >= 0.5 else
                  "The time is outside the database: profile the view (serialization, external calls, "
                  "file work); move slow work to Celery or cache the response.")
        findings.append(Finding(
            "slow_endpoint", f"{route.method} {route.route}", "critical" if route.p95_ms >= 3 * t.slow_p95_ms
            else "warning", f"Slow endpoint {route.method} {route.route}",
            {"p95_ms": _round(route.p95_ms), "avg_ms": _round(route.avg_ms), "requests": route.requests,
             "db_ms_per_request": _round(route.db_ms_per_request), "db_share": _round(db_share)}, advice))
    return findings


def _query_heavy_routes(routes: Sequence[RouteFacts], repeated: Sequence[RepeatedQuery], t: Thresholds
                        ) -> list[Finding]:
    findings = []
    flagged = set()
    for query in sorted(repeated, key=lambda q: -q.executions):
        if query.requests < t.n_plus_one_requests:
            continue
        flagged.add((query.method, query.route))
        per_request = query.executions / query.requests
        findings.append(Finding(
            "n_plus_one", f"{query.method} {query.route} {query.shape_key}", "warning",
            f"N+1 queries in {query.method} {query.route}",
            {"sql": query.sql, "requests": query.requests, "executions": query.executions,
             "executions_per_request": round(per_request, 1)},
            "One statement runs once per item: load the related rows together (select_related for foreign "
            "keys, prefetch_related for reverse and many-to-many relations) or annotate the counts."))
    for route in routes:
        if (route.requests >= t.min_route_requests and route.queries_per_request is not None
                and route.queries_per_request >= t.queries_per_request and (route.method, route.route) not in flagged):
            findings.append(Finding(
                "many_queries", f"{route.method} {route.route}", "info",
                f"Many queries per request in {route.method} {route.route}",
                {"queries_per_request": _round(route.queries_per_request), "requests": route.requests,
                 "db_ms_per_request": _round(route.db_ms_per_request)},
                "Each request runs many statements: fetch related data in bulk, paginate, and cache what "
                "does not change per request."))
    return findings


def _cache(cache: dict[str, float] | None, t: Thresholds) -> list[Finding]:
    if not cache:
        return []
    hits, misses = float(cache.get("hits", 0)), float(cache.get("misses", 0))
    lookups = hits + misses
    if lookups < t.min_cache_lookups:
        return []
    rate = hits / lookups
    if rate >= t.cache_hit_rate:
        return []
    return [Finding(
        "low_cache_hit_rate", "cache", "warning", "Low cache hit rate",
        {"hit_rate": round(rate, 4), "hits": int(hits), "misses": int(misses),
         "l1_items": cache.get("l1_items"), "l1_bytes": cache.get("l1_bytes")},
        "Most lookups miss: check that keys are stable (no timestamps or user ids where not needed), raise "
        "timeouts of data that rarely changes, and invalidate by tags instead of clearing everything.")]


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of (time, value) points, per minute."""
    if len(points) < 3:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return None
    return 60.0 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def _queue(points: Sequence[tuple[float, float]], t: Thresholds) -> list[Finding]:
    slope = slope_per_minute(points)
    if slope is None or not points:
        return []
    latest = points[-1][1]
    if latest < t.queue_backlog or slope < t.queue_growth_per_minute:
        return []
    minutes = (points[-1][0] - points[0][0]) / 60
    return [Finding(
        "celery_queue_growing", "celery", "critical" if slope >= 10 * t.queue_growth_per_minute else "warning",
        "Celery backlog growing",
        {"tasks_waiting": latest, "growth_per_minute": round(slope, 2), "minutes": round(minutes, 1)},
        "Tasks arrive faster than workers finish them: add worker concurrency (the optimizer can grow the pool "
        "within MONITORING_OPTIMIZER_CELERY_MAX_CONCURRENCY) or workers, and look for a task that got slow.")]


def _channels(channels: dict[str, dict[str, Any]], t: Thresholds) -> list[Finding]:
    findings = []
    for server, stats in sorted(channels.items()):
        fill = float(stats.get("max_fill", 0.0))
        if fill < t.channel_fill:
            continue
        findings.append(Finding(
            "websocket_queue_near_capacity", server, "critical" if fill >= 1.0 else "warning",
            f"WebSocket channel queues near capacity on {server}",
            {"max_fill": round(fill, 3), "near_capacity": stats.get("near_capacity"),
             "channels": stats.get("channels"), "capacity": stats.get("capacity")},
            "Some sockets do not read fast enough (slow clients) or a room is flooded: messages are dropped at "
            "capacity. Throttle broadcasts to big rooms, batch progress events, or add daphne processes."))
    return findings


def detect(facts: Facts, thresholds: Thresholds | None = None) -> list[Finding]:
    """Every finding, the most severe first."""
    t = thresholds or Thresholds()
    per_host: list[Callable[[HostFacts, Thresholds], list[Finding]]] = [_cpu, _memory, _swap, _disk_io]
    findings = [finding for host in facts.hosts for check in per_host for finding in check(host, t)]
    findings += _slow_routes(facts.routes, t)
    findings += _query_heavy_routes(facts.routes, facts.repeated, t)
    findings += _cache(facts.cache, t)
    findings += _queue(facts.queue, t)
    findings += _channels(facts.channels, t)
    rank = {"critical": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: (rank.get(f.severity, 3), f.kind, f.subject))
