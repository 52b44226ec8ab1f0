"""Monitoring reads, for the API, /metrics, reports, the dashboard and the alert engine.

Everything here reads an index: the latest snapshot per host, a series' rollups by
(metric, tier, bucket), request and task rollups by (tier, bucket), the all-time totals
and the minutes not rolled up yet from Redis. Ranges pick their tier with `tier_for`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import Count, Max, Min, Sum
from django.utils.module_loading import import_string

from monitoring import histogram, redis_store, series
from monitoring.aggregator import Parsed, RequestStats, latency_ms, minute_of, parse
from monitoring.catalog import ALL_METRICS, SNAPSHOT_METRIC_NAMES
from monitoring.models import ActiveUserDay, MetricRollup, RequestRollup, SystemSnapshot, TaskRollup, Tier
from tecnocursos.core.exceptions import ApplicationError, NotFound

logger = logging.getLogger(__name__)

# Ranges up to this long are answered from minute rollups, longer ones from hour rollups.
MINUTE_TIER_MAX = timedelta(hours=6)


def tier_for(start: datetime, end: datetime) -> str:
    minutes_kept_since = datetime.now(tz=UTC) - timedelta(days=settings.MONITORING_MINUTE_RETENTION_DAYS)
    if end - start <= MINUTE_TIER_MAX and start >= minutes_kept_since:
        return Tier.MINUTE
    return Tier.HOUR


# --- system -----------------------------------------------------------------------------------


def snapshot_latest(*, host: str | None = None) -> SystemSnapshot:
    snapshots = SystemSnapshot.objects.defer("counters")
    if host:
        snapshots = snapshots.filter(host=host)
    snapshot = snapshots.first()
    if snapshot is None:
        raise NotFound("No system sample yet: is the Celery worker and beat running, and collection on?")
    return snapshot


def snapshot_age_seconds(snapshot: SystemSnapshot) -> float:
    return max(0.0, time.time() - snapshot.timestamp.timestamp())


def snapshot_is_fresh(snapshot: SystemSnapshot) -> bool:
    """Whether a sample still describes the machine (three intervals at most)."""
    return snapshot_age_seconds(snapshot) <= 3 * float(settings.MONITORING_COLLECT_INTERVAL) + 5


def metric_latest(*, metric: str, host: str | None = None) -> float | None:
    """The latest sampled value of a snapshot series (what an alert rule compares)."""
    if metric not in SNAPSHOT_METRIC_NAMES:
        raise ApplicationError(f"Unknown metric {metric!r}; known: {', '.join(SNAPSHOT_METRIC_NAMES)}.")
    snapshots = SystemSnapshot.objects.all() if host is None else SystemSnapshot.objects.filter(host=host)
    row = snapshots.values(metric).first()
    return None if row is None else row[metric]


def snapshots_latest_per_host() -> list[SystemSnapshot]:
    hosts = SystemSnapshot.objects.values("host").annotate(last=Max("timestamp"))
    recent = [row for row in hosts if row["last"] >= datetime.now(tz=UTC) - timedelta(hours=1)]
    latest = [SystemSnapshot.objects.filter(host=row["host"], timestamp=row["last"]).first() for row in recent]
    return [snapshot for snapshot in latest if snapshot is not None]  # pruned meanwhile


class SeriesPoint(TypedDict):
    bucket: datetime
    count: int
    avg: float | None
    min: float
    max: float


def metric_series(
    *, metric: str, start: datetime, end: datetime, tier: str | None = None, host: str | None = None,
    labels: str = "",
) -> list[SeriesPoint]:
    """One series over [start, end), oldest first; several hosts are merged per bucket."""
    if metric not in ALL_METRICS:
        raise ApplicationError(f"Unknown metric {metric!r}; known: {', '.join(sorted(ALL_METRICS))}.")
    rows = MetricRollup.objects.filter(metric=metric, tier=tier or tier_for(start, end), bucket__gte=start,
                                       bucket__lt=end, labels=labels)
    if host:
        rows = rows.filter(host=host)
    grouped = rows.values("bucket").annotate(n=Sum("count"), total=Sum("sum"), low=Min("min"), high=Max("max"))
    return [SeriesPoint(bucket=r["bucket"], count=r["n"], avg=r["total"] / r["n"] if r["n"] else None,
                        min=r["low"], max=r["high"]) for r in grouped.order_by("bucket")]


# --- requests ------------------------------------------------------------------------------------


def _merge_request_rows(rows: Iterable[RequestRollup]) -> RequestStats:
    total = RequestStats()
    for row in rows:
        total.add(RequestStats(count=row.count, statuses={int(k): v for k, v in row.statuses.items()},
                               duration_us=row.duration_us, histogram=list(row.histogram),
                               response_bytes=row.response_bytes, db_queries=row.db_queries,
                               db_time_us=row.db_time_us))
    return total


def summary_of(stats: RequestStats) -> dict[str, Any]:
    errors = sum(count for status, count in stats.statuses.items() if status >= 500)
    client_errors = sum(count for status, count in stats.statuses.items() if 400 <= status < 500)
    return {
        "requests": stats.count,
        "server_errors": errors,
        "client_errors": client_errors,
        "error_rate": round(errors / stats.count, 6) if stats.count else 0.0,
        "latency_ms": latency_ms(stats),
        "response_bytes": stats.response_bytes,
        "db_queries_per_request": round(stats.db_queries / stats.count, 3) if stats.count else None,
        "db_ms_per_request": round(stats.db_time_us / stats.count / 1000, 3) if stats.count else None,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
    }


def request_summary(*, start: datetime, end: datetime, tier: str | None = None) -> dict[str, Any]:
    """Totals over [start, end): requests, error rate (5xx share), latency percentiles."""
    rows = RequestRollup.objects.filter(tier=tier or tier_for(start, end), bucket__gte=start, bucket__lt=end)
    return summary_of(_merge_request_rows(rows))


def request_routes(*, start: datetime, end: datetime, tier: str | None = None, order: str = "p95",
                   limit: int = 10) -> list[dict[str, Any]]:
    """Per route and method over the range; `order`: p95, avg, requests or errors (highest first)."""
    rows = RequestRollup.objects.filter(tier=tier or tier_for(start, end), bucket__gte=start, bucket__lt=end)
    per_route: dict[tuple[str, str], list[RequestRollup]] = {}
    for row in rows.only("method", "route", "count", "statuses", "duration_us", "histogram", "response_bytes",
                         "db_queries", "db_time_us"):
        per_route.setdefault((row.method, row.route), []).append(row)
    result = [{"method": method, "route": route, **summary_of(_merge_request_rows(group))}
              for (method, route), group in per_route.items()]
    keys = {
        "p95": lambda r: r["latency_ms"]["p95"] or 0.0,
        "avg": lambda r: r["latency_ms"]["avg"] or 0.0,
        "requests": lambda r: r["requests"],
        "errors": lambda r: r["server_errors"],
    }
    if order not in keys:
        raise ApplicationError(f"order must be one of: {', '.join(keys)}.")
    return sorted(result, key=keys[order], reverse=True)[:limit]


def request_series(*, start: datetime, end: datetime, tier: str | None = None) -> list[dict[str, Any]]:
    """Per bucket: requests, 5xx, 4xx, average latency (every route together), oldest first."""
    rows = (RequestRollup.objects.filter(tier=tier or tier_for(start, end), bucket__gte=start, bucket__lt=end)
            .values("bucket").annotate(requests=Sum("count"), server_errors=Sum("server_errors"),
                                       client_errors=Sum("client_errors"), duration_us=Sum("duration_us"))
            .order_by("bucket"))
    return [{"bucket": r["bucket"], "requests": r["requests"], "server_errors": r["server_errors"],
             "client_errors": r["client_errors"],
             "avg_ms": round(r["duration_us"] / r["requests"] / 1000, 3) if r["requests"] else None} for r in rows]


class RequestBucket(TypedDict):
    bucket: datetime
    requests: int
    server_errors: int
    histogram: list[int]


def request_buckets(*, start: datetime, end: datetime, tier: str, pending: bool = False) -> list[RequestBucket]:
    """Per bucket, every route together: requests, 5xx and the merged latency histogram, oldest first
    (the export's request series and the alert rules' request history).

    `pending` (minute tier): add the minutes still in Redis, the current one above all. The database
    is read first, so a minute rolled up in between is missed, never counted twice.
    """
    merged: dict[datetime, RequestBucket] = {}
    rows = (RequestRollup.objects.filter(tier=tier, bucket__gte=start, bucket__lt=end)
            .values_list("bucket", "count", "server_errors", "histogram").order_by("bucket"))
    for bucket, count, server_errors, counts in rows:
        entry = merged.get(bucket)
        if entry is None:
            entry = merged[bucket] = _empty_bucket(bucket)
        entry["requests"] += count
        entry["server_errors"] += server_errors
        histogram.merge(entry["histogram"], counts or [])
    if pending and tier == Tier.MINUTE:
        _add_pending_requests(merged, start, end)
        return sorted(merged.values(), key=lambda entry: entry["bucket"])
    return list(merged.values())


def _empty_bucket(bucket: datetime) -> RequestBucket:
    return RequestBucket(bucket=bucket, requests=0, server_errors=0,
                         histogram=histogram.empty(histogram.LATENCY_BOUNDS))


def _add_pending_requests(merged: dict[datetime, RequestBucket], start: datetime, end: datetime) -> None:
    try:
        minutes = redis_store.pending_minutes(start.timestamp(), end.timestamp())
        parts = [(minute, parse(redis_store.pending_minute(minute)).requests) for minute in minutes]
    except Exception:
        logger.warning("monitoring: minutes not rolled up yet unavailable (Redis)", exc_info=True)
        return  # the rolled-up part still answers
    for minute, requests in parts:
        bucket = datetime.fromtimestamp(minute, tz=UTC)
        if bucket in merged or not requests:
            continue
        entry = merged[bucket] = _empty_bucket(bucket)
        for stats in requests.values():
            entry["requests"] += stats.count
            entry["server_errors"] += sum(count for status, count in stats.statuses.items() if status >= 500)
            histogram.merge(entry["histogram"], stats.histogram)


def requests_live(*, minutes: int = 2) -> Parsed:
    """The counts of the last minutes that are still in Redis (not rolled up yet)."""
    now_minute = minute_of(time.time())
    merged = Parsed()
    for minute in range(now_minute - 60 * (minutes - 1), now_minute + 60, 60):
        part = parse(redis_store.pending_minute(minute))
        for key, stats in part.requests.items():
            merged.requests.setdefault(key, RequestStats()).add(stats)
        for user_id, count in part.users.items():
            merged.users[user_id] = merged.users.get(user_id, 0) + count
        merged.seen |= part.seen
    return merged


def request_summary_recent(*, minutes: int = 5) -> dict[str, Any]:
    """The last `minutes` (the current one included), rolled up or still in Redis: for alerts and live views.

    The database is read before Redis, so a minute rolled up in between is missed, never counted twice.
    """
    now_minute = minute_of(time.time())
    start = datetime.fromtimestamp(now_minute - 60 * (minutes - 1), tz=UTC)
    rows = RequestRollup.objects.filter(tier=Tier.MINUTE, bucket__gte=start)
    stats = _merge_request_rows(rows)
    rolled = {int(bucket.timestamp()) for bucket in rows.values_list("bucket", flat=True).distinct()}
    for minute in range(int(start.timestamp()), now_minute + 60, 60):
        if minute not in rolled:
            for part in parse(redis_store.pending_minute(minute)).requests.values():
                stats.add(part)
    return summary_of(stats)


def totals() -> Parsed:
    """All-time request and task counts of every process (what /metrics exposes)."""
    return parse(redis_store.totals())


# --- tasks, users, WebSocket ---------------------------------------------------------------------------


def task_summary(*, start: datetime, end: datetime, tier: str | None = None) -> list[dict[str, Any]]:
    rows = (TaskRollup.objects.filter(tier=tier or tier_for(start, end), bucket__gte=start, bucket__lt=end)
            .values("task").annotate(runs=Sum("count"), failures=Sum("failures"), retries=Sum("retries"),
                                     runtime_us=Sum("runtime_us"))
            .order_by("-runs", "task"))
    return [{"task": r["task"], "runs": r["runs"], "failures": r["failures"], "retries": r["retries"],
             "avg_runtime_ms": round(r["runtime_us"] / r["runs"] / 1000, 3) if r["runs"] else None} for r in rows]


def active_users(*, start: date, end: date) -> int:
    """Distinct users with authenticated requests on the days [start, end]."""
    return (ActiveUserDay.objects.filter(day__gte=start, day__lte=end)
            .aggregate(n=Count("user", distinct=True))["n"] or 0)


def active_users_per_day(*, start: date, end: date) -> list[dict[str, Any]]:
    rows = (ActiveUserDay.objects.filter(day__gte=start, day__lte=end).values("day")
            .annotate(users=Count("user"), requests=Sum("requests")).order_by("day"))
    return [dict(row) for row in rows]


def active_users_recent(*, minutes: int = 15) -> int:
    """Users seen within the last minutes: rolled-up days plus what is still in Redis."""
    since = datetime.now(tz=UTC) - timedelta(minutes=minutes)
    users = set(ActiveUserDay.objects.filter(last_seen__gte=since).values_list("user_id", flat=True))
    try:
        live = requests_live(minutes=3)
        users.update(live.users)
        users.update(live.seen)
    except Exception:
        pass  # Redis down: the rolled-up part still answers
    return len(users)


def websocket_stats() -> dict[str, Any]:
    """realtime's own counts (connections, frames, per server) plus closes, refusals and errors by code."""
    stats: dict[str, Any] = dict(import_string(settings.MONITORING_WEBSOCKET_STATS)())
    total, per_server = redis_store.websocket_events()
    stats["events"] = _events(total)
    stats["events_per_server"] = {server: _events(fields) for server, fields in sorted(per_server.items())}
    return stats


def _events(fields: dict[str, str]) -> dict[str, dict[str, int]]:
    grouped: dict[str, dict[str, int]] = {"closed": {}, "refused": {}, "error": {}}
    for name, value in fields.items():
        parts = name.split("|")
        if len(parts) == 3 and parts[1] in grouped:
            grouped[parts[1]][parts[2]] = grouped[parts[1]].get(parts[2], 0) + int(value)
    return grouped


def collection_state() -> dict[str, Any]:
    try:
        state = redis_store.control_state()
    except Exception as exc:
        raise ApplicationError("The monitoring state is kept in Redis, which is unavailable.",
                               status_code=503) from exc
    return state


def celery_workers() -> dict[str, float]:
    return redis_store.workers(fresh_within=3 * float(settings.MONITORING_WORKER_HEARTBEAT_SECONDS))


# --- streams for exports: one bounded window at a time, oldest first --------------------------------


def snapshot_values(*, columns: Iterable[str], start: datetime, end: datetime
                    ) -> Iterable[tuple[datetime, dict[str, float | None]]]:
    """Raw samples of snapshot series over [start, end), oldest first, read in chunks (every host)."""
    names = list(columns)
    for name in names:
        if name not in SNAPSHOT_METRIC_NAMES:
            raise ApplicationError(f"Unknown metric {name!r}.")
    rows = (SystemSnapshot.objects.filter(timestamp__gte=start, timestamp__lt=end).order_by("timestamp", "id")
            .values_list("timestamp", *names))
    for row in rows.iterator(chunk_size=2000):
        yield row[0], dict(zip(names, row[1:], strict=True))


def metric_buckets(*, metrics: Iterable[str], start: datetime, end: datetime, tier: str, pending: bool = False
                   ) -> list[tuple[datetime, str, float | None]]:
    """(bucket, metric, average over every host) of unlabelled series, by bucket then metric.

    `pending` (minute tier): add the minutes not rolled up yet, the current one above all, from their
    snapshots. The rollups are read first, so a minute rolled up in between is missed, never counted twice.
    """
    names = list(metrics)
    rows = (MetricRollup.objects.filter(metric__in=names, tier=tier, labels="", bucket__gte=start, bucket__lt=end)
            .values("bucket", "metric").annotate(n=Sum("count"), total=Sum("sum")).order_by("bucket", "metric"))
    found = [(r["bucket"], r["metric"], r["total"] / r["n"] if r["n"] else None) for r in rows]
    if not (pending and tier == Tier.MINUTE):
        return found
    rolled = {bucket for bucket, _, _ in found}
    minutes: dict[datetime, list[dict[str, Any]]] = {}
    for snapshot in (SystemSnapshot.objects.filter(rolled_up=False, timestamp__gte=start, timestamp__lt=end)
                     .order_by().values("timestamp", *names)):
        minute = snapshot["timestamp"].replace(second=0, microsecond=0)
        if minute not in rolled:
            minutes.setdefault(minute, []).append(snapshot)
    for minute, snapshots in minutes.items():
        stats = series.summarize(snapshots, names)
        found += [(minute, name, stats[(name, "")].avg) for name in names if (name, "") in stats]
    return sorted(found, key=lambda row: (row[0], row[1]))
