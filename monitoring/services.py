"""Monitoring writes: collect a snapshot, pause and resume, roll up, enforce retention."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Model, QuerySet, Sum
from django.utils.module_loading import import_string

from monitoring import histogram, redis_store, sampling, series, system_source
from monitoring.aggregator import Parsed, RequestStats, TaskStats, minute_of, parse
from monitoring.catalog import SNAPSHOT_METRIC_NAMES
from monitoring.models import (
    ActiveUserDay,
    MetricRollup,
    RequestRollup,
    RollupClaim,
    SystemSnapshot,
    TaskRollup,
    Tier,
)
from monitoring.processes import ProcessFinder
from monitoring.recorder import recorder
from tecnocursos.cache.tags import ANALYTICS_PERFORMANCE, ANALYTICS_USERS, invalidate
from tecnocursos.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# A claim older than this whose rollup did not finish is taken up again (the ledger prevents doubles).
STALE_CLAIM_SECONDS = 300
CLAIM_LEDGER_DAYS = 7


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _floor(moment: datetime, step: timedelta) -> datetime:
    seconds = int(step.total_seconds())
    return _at(int(moment.timestamp()) // seconds * seconds)


# --- collection ---------------------------------------------------------------------------


@cache
def _finder() -> ProcessFinder:
    pid_files = {"redis": Path(settings.VAR_DIR) / "redis.pid"} if settings.EMBEDDED_REDIS else {}
    return ProcessFinder(root=str(settings.BASE_DIR), pid_files=pid_files)


def _read_machine() -> sampling.Reading:
    return system_source.read(data_path=settings.MONITORING_DATA_PATH, finder=_finder())


def _extras() -> dict[str, float | None]:
    """What the machine does not say: the Celery backlog and the open WebSockets."""
    values: dict[str, float | None] = {"celery_queue_length": None, "websocket_connections": None,
                                       "websocket_users": None}
    try:
        queues = redis_store.queue_lengths(settings.MONITORING_CELERY_QUEUES)
        values["celery_queue_length"] = float(sum(queues.values()))
    except Exception:
        logger.warning("monitoring: Celery queue length unavailable", exc_info=True)
    try:
        stats = import_string(settings.MONITORING_WEBSOCKET_STATS)()
        values["websocket_connections"] = float(stats["connections"])
        values["websocket_users"] = float(stats["users"])
    except Exception:
        logger.warning("monitoring: WebSocket statistics unavailable", exc_info=True)
    return values


def _mark_socket_users(at: float) -> None:
    """Users with an open WebSocket count as active this minute (once per sample, not per frame)."""
    try:
        redis_store.mark_seen(minute_of(at), import_string(settings.MONITORING_WEBSOCKET_USERS)())
    except Exception:
        logger.warning("monitoring: WebSocket users unavailable", exc_info=True)


def _collecting() -> bool:
    try:
        return redis_store.collecting()
    except Exception:  # Redis down: measuring goes on (the switch cannot be read, not "off")
        return True


def _collect_slot(hostname: str) -> bool:
    """One collection per host per half interval, even when two workers run the task at once.

    The lock is left to expire: it spaces the samples. Redis down: collect anyway.
    """
    seconds = max(1, int(float(settings.MONITORING_COLLECT_INTERVAL) / 2))
    try:
        return redis_store.lock(f"collect:{hostname}", seconds=seconds) is not None
    except Exception:
        return True


def snapshot_collect(
    *, host: str | None = None, reader: Callable[[], sampling.Reading] | None = None, force: bool = False,
) -> SystemSnapshot | None:
    """Measure the machine and store one snapshot; None when paused or too soon after the last one.

    Rates run from the counters of this host's previous snapshot, whichever process took it.
    """
    if not force and not _collecting():
        return None
    hostname = host or socket.gethostname()
    if not force and not _collect_slot(hostname):
        return None
    cpu_start = time.process_time()
    previous = SystemSnapshot.objects.filter(host=hostname).only("timestamp", "counters").first()
    reading = (reader or _read_machine)()
    # Queued-up runs (a busy worker) would give rates over a few milliseconds: skip them.
    min_spacing = float(settings.MONITORING_COLLECT_INTERVAL) / 2
    if not force and previous is not None and 0 <= reading.counters.at - previous.timestamp.timestamp() < min_spacing:
        return None
    sample = sampling.compute(sampling.Counters.from_json(previous.counters) if previous else None, reading)
    values = {**sample.values, **_extras()}
    _mark_socket_users(sample.at)
    values["collection_cpu_seconds"] = round(time.process_time() - cpu_start, 6)
    return SystemSnapshot.objects.create(
        timestamp=_at(sample.at), host=hostname, interval_seconds=sample.interval,
        mounts=sample.mounts, interfaces=sample.interfaces, processes=sample.processes,
        counters=sample.counters.to_json(), **{name: values.get(name) for name in SNAPSHOT_METRIC_NAMES},
    )


# --- pause and resume ----------------------------------------------------------------------


def collection_set(*, collecting: bool, by: str) -> dict[str, Any]:
    """Pause or resume every collector in every process (system, requests, tasks, WebSocket)."""
    try:
        state = redis_store.set_collecting(collecting, by=by)
    except Exception as exc:
        raise ApplicationError("The monitoring state is kept in Redis, which is unavailable; try again.",
                               status_code=503) from exc
    recorder().collecting = collecting  # this process at once; the others at their next flush
    return state


# --- rollups: requests, tasks and users from Redis ---------------------------------------------


def _grace_seconds() -> float:
    # Every process has flushed a closed minute after one flush interval; twice, to be safe.
    return 2 * float(settings.MONITORING_FLUSH_SECONDS) + 5


def requests_rollup(*, now: float | None = None) -> int:
    """Move closed minutes' counts from Redis into the minute and hour rollups; how many minutes.

    Each minute hash is claimed by a rename, added in one transaction with its claim token
    in the ledger, then deleted: a claim interrupted anywhere is finished later, never twice.
    """
    now = time.time() if now is None else now
    done = 0
    for claim in redis_store.stale_claims(now - STALE_CLAIM_SECONDS):
        done += _apply_claim(claim)
    for minute in redis_store.due_minutes(now - 60 - _grace_seconds()):
        taken = redis_store.claim_minute(minute, now=now)
        if taken is not None:
            done += _apply_claim(taken)
    return done


def _apply_claim(claim: str) -> int:
    minute = _at(redis_store.minute_of_claim(claim))
    parsed = parse(redis_store.claim_read(claim))
    try:
        with transaction.atomic():
            if RollupClaim.objects.filter(token=claim).exists():
                applied = 0
            else:
                RollupClaim.objects.create(token=claim, minute=minute)
                _add_minute(parsed, minute)
                applied = 1
    except IntegrityError:
        logger.info("monitoring: claim %s is being rolled up elsewhere; will retry", claim)
        return 0
    redis_store.claim_done(claim)
    return applied


def _add_minute(parsed: Parsed, minute: datetime) -> None:
    for tier, bucket in ((Tier.MINUTE, minute), (Tier.HOUR, _floor(minute, HOUR))):
        _add_requests(tier, bucket, parsed.requests)
        _add_tasks(tier, bucket, parsed.tasks)
    _add_users(parsed.users, minute, seen=parsed.seen)


def _add_requests(tier: str, bucket: datetime, requests: dict[tuple[str, str], RequestStats]) -> None:
    if not requests:
        return
    rows = RequestRollup.objects.select_for_update().filter(
        tier=tier, bucket=bucket, route__in={route for _, route in requests})
    existing = {(row.method, row.route): row for row in rows}
    created, updated = [], []
    for (method, route), stats in requests.items():
        row = existing.get((method, route))
        if row is None:
            row = RequestRollup(tier=tier, bucket=bucket, method=method, route=route, statuses={}, histogram=[])
            created.append(row)
        else:
            updated.append(row)
        _add_request_stats(row, stats)
    RequestRollup.objects.bulk_create(created)
    RequestRollup.objects.bulk_update(updated, ["count", "client_errors", "server_errors", "statuses", "duration_us",
                                                "histogram", "response_bytes", "db_queries", "db_time_us"])


def _add_request_stats(row: RequestRollup, stats: RequestStats) -> None:
    row.count += stats.count
    for status, count in stats.statuses.items():
        row.statuses[str(status)] = row.statuses.get(str(status), 0) + count
        if 400 <= status < 500:
            row.client_errors += count
        elif status >= 500:
            row.server_errors += count
    row.duration_us += stats.duration_us
    row.histogram = histogram.merge(list(row.histogram or histogram.empty(histogram.LATENCY_BOUNDS)), stats.histogram)
    row.response_bytes += stats.response_bytes
    row.db_queries += stats.db_queries
    row.db_time_us += stats.db_time_us


def _add_tasks(tier: str, bucket: datetime, tasks: dict[str, TaskStats]) -> None:
    if not tasks:
        return
    existing = {row.task: row for row in TaskRollup.objects.select_for_update().filter(
        tier=tier, bucket=bucket, task__in=list(tasks))}
    created, updated = [], []
    for task, stats in tasks.items():
        row = existing.get(task)
        if row is None:
            row = TaskRollup(tier=tier, bucket=bucket, task=task, states={}, histogram=[])
            created.append(row)
        else:
            updated.append(row)
        for state, count in stats.states.items():
            row.states[state] = row.states.get(state, 0) + count
        row.count += stats.count
        row.failures += stats.states.get("failure", 0)
        row.retries += stats.states.get("retry", 0)
        row.runtime_us += stats.runtime_us
        row.histogram = histogram.merge(list(row.histogram or histogram.empty(histogram.TASK_BOUNDS)), stats.histogram)
    TaskRollup.objects.bulk_create(created)
    TaskRollup.objects.bulk_update(updated, ["count", "failures", "retries", "states", "runtime_us", "histogram"])


def _add_users(users: dict[int, int], minute: datetime, *, seen: set[int] | None = None) -> None:
    """Active-user days: users with requests, and users seen on a WebSocket only (0 requests)."""
    users = {**dict.fromkeys(seen or (), 0), **users}
    if not users:
        return
    day = minute.date()
    last_seen = minute + MINUTE
    known = set(get_user_model().objects.filter(pk__in=list(users)).values_list("pk", flat=True))  # deleted users
    rows = ActiveUserDay.objects.select_for_update().filter(day=day, user_id__in=known)
    existing = {row.user_id: row for row in rows}
    created, updated = [], []
    for user_id in known:
        row = existing.get(user_id)
        if row is None:
            created.append(ActiveUserDay(user_id=user_id, day=day, requests=users[user_id], last_seen=last_seen))
        else:
            row.requests += users[user_id]
            row.last_seen = max(row.last_seen, last_seen)
            updated.append(row)
    ActiveUserDay.objects.bulk_create(created)
    ActiveUserDay.objects.bulk_update(updated, ["requests", "last_seen"])


# --- rollups: system snapshots ----------------------------------------------------------------


def system_rollup(*, now: datetime | None = None, limit: int = 20_000) -> int:
    """Summarize the snapshots of closed minutes not rolled up yet; returns how many minutes.

    A minute is recomputed from all its snapshots (a late one is included), then the hours
    it belongs to from their minutes: idempotent, whatever ran before.
    """
    cutoff = _floor(now or datetime.now(tz=UTC), MINUTE)
    pending = list(SystemSnapshot.objects.filter(rolled_up=False, timestamp__lt=cutoff)
                   .order_by("timestamp").values_list("id", "host", "timestamp")[:limit])
    if not pending:
        return 0
    minutes = sorted({(host, _floor(ts, MINUTE)) for _, host, ts in pending})
    with transaction.atomic():
        for host, minute in minutes:
            _summarize_minute(host, minute)
        for host, hour in sorted({(host, _floor(minute, HOUR)) for host, minute in minutes}):
            _summarize_hour(host, hour)
        SystemSnapshot.objects.filter(id__in=[row[0] for row in pending]).update(rolled_up=True)
    return len(minutes)


def _replace(tier: str, bucket: datetime, host: str, stats: Iterable[tuple[tuple[str, str], series.Stat]]) -> None:
    MetricRollup.objects.filter(tier=tier, bucket=bucket, host=host).delete()
    MetricRollup.objects.bulk_create([
        MetricRollup(tier=tier, bucket=bucket, host=host, metric=metric, labels=labels[:255], count=stat.count,
                     sum=stat.sum, min=stat.min, max=stat.max)
        for (metric, labels), stat in stats if stat.count
    ])


def _summarize_minute(host: str, minute: datetime) -> None:
    snapshots = SystemSnapshot.objects.filter(host=host, timestamp__gte=minute, timestamp__lt=minute + MINUTE)
    rows = snapshots.values(*SNAPSHOT_METRIC_NAMES, "mounts", "processes")
    _replace(Tier.MINUTE, minute, host, series.summarize(rows, SNAPSHOT_METRIC_NAMES).items())


def _summarize_hour(host: str, hour: datetime) -> None:
    minutes = (MetricRollup.objects.filter(tier=Tier.MINUTE, host=host, bucket__gte=hour, bucket__lt=hour + HOUR)
               .values("metric", "labels")
               .annotate(n=Sum("count"), total=Sum("sum"), low=Min("min"), high=Max("max")))
    _replace(Tier.HOUR, hour, host, (
        ((row["metric"], row["labels"]), series.Stat(row["n"], row["total"], row["low"], row["high"]))
        for row in minutes
    ))


def rollups_run(*, now: float | None = None) -> dict[str, int]:
    """Both rollups, under a lock so that two workers do not race on the same minutes."""
    try:
        token = redis_store.lock("rollup", seconds=300)
    except Exception:
        token = ""  # Redis down: the request counts wait in Redis anyway; roll up the snapshots
    if token is None:
        return {"skipped": 1}
    try:
        result = {"system_minutes": system_rollup(now=None if now is None else _at(now))}
        if token:
            result["request_minutes"] = requests_rollup(now=now)
        if any(result.values()):
            # Reports cached from the rollups (and the active-user days) recompute on their next read.
            invalidate([ANALYTICS_PERFORMANCE, ANALYTICS_USERS])
        return result
    finally:
        if token:
            redis_store.unlock("rollup", token)


# --- retention ---------------------------------------------------------------------------------


def _delete_in_batches(queryset: QuerySet[Any], batch: int = 5000) -> int:
    model: type[Model] = queryset.model
    deleted = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += model._default_manager.filter(pk__in=ids).delete()[0]


def retention_enforce(*, now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than each tier's retention (settings); returns rows deleted per table."""
    now = now or datetime.now(tz=UTC)
    snapshots_before = now - timedelta(hours=settings.MONITORING_SNAPSHOT_RETENTION_HOURS)
    minutes_before = now - timedelta(days=settings.MONITORING_MINUTE_RETENTION_DAYS)
    hours_before = now - timedelta(days=settings.MONITORING_HOUR_RETENTION_DAYS)
    result = {"snapshots": _delete_in_batches(SystemSnapshot.objects.filter(timestamp__lt=snapshots_before))}
    for name, model in (("metric_rollups", MetricRollup), ("request_rollups", RequestRollup),
                        ("task_rollups", TaskRollup)):
        result[name] = (_delete_in_batches(model.objects.filter(tier=Tier.MINUTE, bucket__lt=minutes_before))
                        + _delete_in_batches(model.objects.filter(tier=Tier.HOUR, bucket__lt=hours_before)))
    result["active_user_days"] = _delete_in_batches(ActiveUserDay.objects.filter(day__lt=hours_before.date()))
    result["claims"] = _delete_in_batches(RollupClaim.objects.filter(
        created_at__lt=now - timedelta(days=CLAIM_LEDGER_DAYS)))
    return result
