"""What an alert rule can watch: each metric's current values (one per label set) and, for
most, its history (for adaptive, predictive and anomaly rules).

Everything is read through part 1's selectors and rollups, memoised per evaluation pass in a
`Context`, so rules over the same data share one read. A source answers an empty list when
it has nothing to say (no fresh sample, too few requests, no backup facts): the rule then
has no data and its alerts resolve, never an error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils.module_loading import import_string

from monitoring import health, histogram, selectors
from monitoring.catalog import SNAPSHOT_METRICS
from monitoring.models import MetricRollup, SystemSnapshot, Tier
from monitoring.series import labelled_values

logger = logging.getLogger(__name__)

Labels = dict[str, str]
Point = tuple[float, float]


class SourceError(Exception):
    """A source could not be read (its reason is kept on the rule as last_error)."""


@dataclass(frozen=True)
class Reading:
    labels: Labels
    value: float


@dataclass
class Context:
    """One evaluation pass: the time and what was already read."""

    now: datetime
    memo: dict[Any, Any] = field(default_factory=dict)

    def once(self, key: Any, read: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = read()
        return self.memo[key]


Current = Callable[[Context, int], list[Reading]]  # (context, window seconds)
History = Callable[[Labels, datetime, datetime, str], list[Point]]  # (labels, start, end, tier)


@dataclass(frozen=True)
class Source:
    name: str
    unit: str
    description: str
    current: Current
    history: History | None = None

    @property
    def has_history(self) -> bool:
        return self.history is not None


# --- system series (the snapshots) ----------------------------------------------------------


def _fresh_snapshots(context: Context) -> list[SystemSnapshot]:
    return context.once("snapshots", lambda: [s for s in selectors.snapshots_latest_per_host()
                                               if selectors.snapshot_is_fresh(s)])


def _snapshot_current(metric: str) -> Current:
    def current(context: Context, window: int) -> list[Reading]:
        readings = []
        for snapshot in _fresh_snapshots(context):
            value = getattr(snapshot, metric)
            if value is not None and math.isfinite(value):
                readings.append(Reading({"host": snapshot.host}, float(value)))
        return readings

    return current


def _mounts_current(context: Context, window: int) -> list[Reading]:
    readings = []
    for snapshot in _fresh_snapshots(context):
        for (metric, mount), value in labelled_values(snapshot.mounts or [], []).items():
            if metric == "disk_mount_percent":
                readings.append(Reading({"host": snapshot.host, "mount": mount}, value))
    return readings


def _rollup_points(metric: str, labels: Labels, start: datetime, end: datetime, tier: str) -> tuple[list[Point], float]:
    rows = MetricRollup.objects.filter(metric=metric, tier=tier, bucket__gte=start, bucket__lt=end,
                                       labels=labels.get("mount", ""))
    if "host" in labels:
        rows = rows.filter(host=labels["host"])
    half = 30.0 if tier == Tier.MINUTE else 1800.0
    points, last = [], start.timestamp()
    for bucket, total, count in rows.order_by("bucket").values_list("bucket", "sum", "count"):
        if count:
            points.append((bucket.timestamp() + half, total / count))
            last = bucket.timestamp() + 2 * half
    return points, last


def _snapshot_history(metric: str, labelled: bool = False) -> History:
    def history(labels: Labels, start: datetime, end: datetime, tier: str) -> list[Point]:
        points, rolled_until = _rollup_points(metric, labels, start, end, tier)
        if tier != Tier.MINUTE:
            return points
        # The minutes not rolled up yet come from the snapshots themselves.
        tail = SystemSnapshot.objects.filter(timestamp__gte=datetime.fromtimestamp(rolled_until, tz=start.tzinfo),
                                             timestamp__lt=end)
        if "host" in labels:
            tail = tail.filter(host=labels["host"])
        if labelled:
            for at, mounts in tail.order_by("timestamp").values_list("timestamp", "mounts"):
                value = labelled_values(mounts or [], []).get((metric, labels.get("mount", "")))
                if value is not None:
                    points.append((at.timestamp(), value))
        else:
            for at, value in tail.order_by("timestamp").values_list("timestamp", metric):
                if value is not None:
                    points.append((at.timestamp(), float(value)))
        return points

    return history


# --- requests ---------------------------------------------------------------------------------


def _request_summary(context: Context, window: int) -> dict[str, Any]:
    minutes = max(1, math.ceil(window / 60))
    return context.once(("requests", minutes), lambda: selectors.request_summary_recent(minutes=minutes))


def _enough_requests(summary: Mapping[str, Any]) -> bool:
    return int(summary["requests"]) >= int(settings.MONITORING_ALERTS_MIN_REQUESTS)


def _request_current(read: Callable[[dict[str, Any], int], float | None], *, needs_traffic: bool = True) -> Current:
    def current(context: Context, window: int) -> list[Reading]:
        summary = _request_summary(context, window)
        if needs_traffic and not _enough_requests(summary):
            return []
        value = read(summary, window)
        return [] if value is None else [Reading({}, float(value))]

    return current


def _per_minute(start: datetime, end: datetime, tier: str) -> list[tuple[float, selectors.RequestBucket]]:
    """Request buckets (every route together) at their middle, oldest first."""
    half = 30.0 if tier == Tier.MINUTE else 1800.0
    return [(bucket["bucket"].timestamp() + half, bucket)
            for bucket in selectors.request_buckets(start=start, end=end, tier=tier)]


def _request_history(read: Callable[[selectors.RequestBucket, float], float | None]) -> History:
    def history(labels: Labels, start: datetime, end: datetime, tier: str) -> list[Point]:
        seconds = 60.0 if tier == Tier.MINUTE else 3600.0
        points = []
        for at, bucket in _per_minute(start, end, tier):
            value = read(bucket, seconds)
            if value is not None:
                points.append((at, value))
        return points

    return history


def _quantile_ms(counts: list[int], q: float) -> float | None:
    seconds = histogram.quantile(histogram.LATENCY_BOUNDS, counts, q)
    return None if seconds is None else seconds * 1000


def _latency(key: str, q: float) -> tuple[Current, History]:
    return (_request_current(lambda s, w: s["latency_ms"][key]),
            _request_history(lambda b, s: _quantile_ms(b["histogram"], q) if b["requests"] else None))


# --- health, Celery, WebSocket, backups -----------------------------------------------------------


def _health_current(context: Context, window: int) -> list[Reading]:
    report = context.once("health", health.report)
    return [Reading({"check": name}, 0.0 if result.ok else 1.0) for name, result in report.checks.items()]


def _workers_current(context: Context, window: int) -> list[Reading]:
    try:
        return [Reading({}, float(len(selectors.celery_workers())))]
    except Exception as exc:
        raise SourceError(f"Celery heartbeats unreadable: {exc}") from exc


def _sample_age_current(context: Context, window: int) -> list[Reading]:
    rows = SystemSnapshot.objects.values("host").annotate(last=Max("timestamp"))
    recent = context.now - timedelta(days=1)
    return [Reading({"host": row["host"]}, max(0.0, (context.now - row["last"]).total_seconds()))
            for row in rows if row["last"] >= recent]


def _channel_queue_current(context: Context, window: int) -> list[Reading]:
    from monitoring import channel_queues

    try:
        servers = channel_queues.read()
    except Exception as exc:
        raise SourceError(f"channel queue statistics unreadable: {exc}") from exc
    return [Reading({"server": server}, 100.0 * float(stats["max_fill"])) for server, stats in servers.items()]


def backup_facts() -> list[Mapping[str, Any]]:
    """The backups app's facts through MONITORING_ALERTS_BACKUP_FACTS (monitoring may not import it).

    The callable returns, per configuration: `config`, `last_status` (the latest run's), and
    `last_success_at` (datetime, UNIX time or None), optionally `max_age_seconds` and `since` (when
    backups began to be due: a configuration that never succeeded is missing only once its
    maximum age has passed since then). Unset: no data.
    """
    path = settings.MONITORING_ALERTS_BACKUP_FACTS
    if not path:
        return []
    try:
        facts = import_string(path)
    except ImportError as exc:
        raise SourceError(f"MONITORING_ALERTS_BACKUP_FACTS: cannot import {path!r}") from exc
    try:
        return list(facts())
    except Exception as exc:
        raise SourceError(f"backup facts failed: {type(exc).__name__}: {exc}"[:300]) from exc


def _seconds(at: Any) -> float | None:
    if at is None:
        return None
    return at.timestamp() if isinstance(at, datetime) else float(at)


def _backup_problem(fact: Mapping[str, Any], now: float) -> float:
    if str(fact.get("last_status") or "").lower() in ("failed", "failure", "error"):
        return 1.0
    # Never succeeded: counted from when backups became due, so a fresh install is not "missing" at once.
    last = _seconds(fact.get("last_success_at")) or _seconds(fact.get("since"))
    max_age = fact.get("max_age_seconds") or float(settings.MONITORING_ALERTS_BACKUP_MAX_AGE_HOURS) * 3600
    return 1.0 if last is None or now - last > float(max_age) else 0.0


def _backup_current(value: Callable[[Mapping[str, Any], float], float | None]) -> Current:
    def current(context: Context, window: int) -> list[Reading]:
        facts = context.once("backups", backup_facts)
        now = context.now.timestamp()
        readings = []
        for fact in facts:
            reading = value(fact, now)
            if reading is not None:
                readings.append(Reading({"config": str(fact.get("config", ""))}, reading))
        return readings

    return current


def _backup_age_hours(fact: Mapping[str, Any], now: float) -> float | None:
    last = _seconds(fact.get("last_success_at"))
    return None if last is None else max(0.0, (now - last) / 3600)


# --- the catalog ---------------------------------------------------------------------------------


def _catalog() -> dict[str, Source]:
    sources = {m.name: Source(m.name, m.unit, f"{m.description} (per host, latest sample)",
                              _snapshot_current(m.name), _snapshot_history(m.name)) for m in SNAPSHOT_METRICS}
    p50, p95, p99 = _latency("p50", 0.5), _latency("p95", 0.95), _latency("p99", 0.99)
    extra = [
        Source("disk_mount_percent", "%", "Space used per mount (per host and mount)", _mounts_current,
               _snapshot_history("disk_mount_percent", labelled=True)),
        Source("http_error_rate", "%", "Share of requests answered 5xx over the rule's window (every route)",
               _request_current(lambda s, w: 100.0 * s["error_rate"]),
               _request_history(lambda b, s: 100.0 * b["server_errors"] / b["requests"] if b["requests"] else None)),
        Source("http_latency_p50_ms", "ms", "Median request latency over the window", *p50),
        Source("http_latency_p95_ms", "ms", "95th percentile request latency over the window", *p95),
        Source("http_latency_p99_ms", "ms", "99th percentile request latency over the window", *p99),
        Source("http_requests_per_minute", "1/min", "Requests per minute over the window",
               _request_current(lambda s, w: s["requests"] / max(1.0, w / 60), needs_traffic=False),
               _request_history(lambda b, s: b["requests"] * 60.0 / s)),
        Source("health_check_failing", "", "1 while a health check fails (per check: database, cache, "
               "channel_layer, celery, disk)", _health_current),
        Source("celery_workers", "", "Celery workers with a recent heartbeat", _workers_current),
        Source("monitoring_sample_age_seconds", "s", "Age of each host's latest system sample", _sample_age_current),
        Source("websocket_channel_queue_percent", "%", "Fill of the fullest WebSocket channel queue, per server "
               "process (100 %: messages are being dropped)", _channel_queue_current),
        Source("backup_problem", "", "1 when a backup configuration's latest run failed or its last success is "
               "older than its maximum age (per config)", _backup_current(_backup_problem)),
        Source("backup_age_hours", "h", "Hours since a configuration's last successful backup",
               _backup_current(_backup_age_hours)),
    ]
    return {**sources, **{source.name: source for source in extra}}


SOURCES: dict[str, Source] = _catalog()


def metric_choices() -> Iterable[tuple[str, str]]:
    return [(name, f"{name} — {source.description}") for name, source in sorted(SOURCES.items())]
