"""Analytics benchmark: the performance report and the dashboard overview on 30 days of a busy site.

    .venv/bin/python bench/analytics_bench.py     # PostgreSQL at BENCH_POSTGRES (default below); REDIS_URL,
                                                  # or the embedded Redis under var/

The script (re)creates its own database `bench_analytics`, migrates it and fills it with COPY as
the monitoring rollups and the content tables would look after 30 days:
- 10 M requests' worth of request metrics over 24 routes, with a day/night cycle: one minute rollup
  row per route and minute that saw requests (latency histograms, statuses, durations), and the hour
  rows as their sums, as the rollup job writes them;
- a system sample every 10 s (259,200 snapshots of one host), and their minute and hour rollups
  for the series the report reads;
- 10 k users, their active-user days and logins; 100 k uploads; 1 k courses.

Then, median of ROUNDS uncached calls (the cache bypassed) of:
1. the performance report (7, 14 and 30 days, read from the hour rollups) against the same report
   computed from the finest rows kept (minute rollups, raw system samples): the ratio, and whether
   the figures agree;
2. the dashboard overview (its last-24-h request figures from the hour rollups) against the same
   overview with those figures from the minute rollups.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "bench_analytics"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tecnocursos.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
os.environ.setdefault("REDIS_PREFIX", "tcanalyticsbench")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("MONITORING_MINUTE_RETENTION_DAYS", "60")  # the 30 days of minute rows are the baseline

import psycopg  # noqa: E402

DAYS = 30
REQUESTS = 10_000_000
USERS = 10_000
UPLOADS = 100_000
COURSES = 1_000
SAMPLE_SECONDS = 10
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
BASELINE_ROUNDS = int(os.environ.get("BENCH_BASELINE_ROUNDS", "3"))  # the finest rows are slow: fewer rounds
HOST = "web-1"
rng = random.Random(2026)


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")


recreate_database()

from tecnocursos.bootstrap import prepare_process  # noqa: E402

prepare_process()

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Model  # noqa: E402

from analytics import selectors  # noqa: E402
from analytics.models import Login  # noqa: E402
from analytics.periods import period_of  # noqa: E402
from monitoring import histogram  # noqa: E402
from monitoring.models import ActiveUserDay, MetricRollup, RequestRollup, SystemSnapshot, Tier  # noqa: E402
from tecnocursos.cache.decorators import cache_bypass  # noqa: E402
from tecnocursos.core.models import Course, Upload  # noqa: E402

NOW = datetime.now(tz=UTC).replace(second=0, microsecond=0)
START = (NOW - timedelta(days=DAYS)).replace(minute=0)
MINUTES = int((NOW - START).total_seconds() // 60)


# --- generation ----------------------------------------------------------------------------------


def copy(model: type[Model], fields: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY rows into a model's table; returns how many."""
    columns = ", ".join(model._meta.get_field(name).column for name in fields)
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor
        with raw.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as out:
            for row in rows:
                out.write_row(row)
                count += 1
    return count


# method, route, share of the traffic, typical latency (s), 5xx share, 4xx share
ROUTES = [
    ("GET", "course-list", 0.16, 0.03, 0.001, 0.002), ("GET", "course-detail", 0.12, 0.025, 0.001, 0.01),
    ("GET", "upload-list", 0.10, 0.05, 0.002, 0.002), ("POST", "upload-list", 0.02, 0.4, 0.01, 0.03),
    ("GET", "upload-detail", 0.08, 0.02, 0.001, 0.02), ("POST", "token-obtain", 0.03, 0.15, 0.0005, 0.08),
    ("POST", "token-refresh", 0.06, 0.01, 0.0005, 0.01), ("GET", "notification-list", 0.09, 0.02, 0.001, 0.0),
    ("POST", "notification-list", 0.005, 0.03, 0.002, 0.01), ("GET", "ws-rooms", 0.04, 0.008, 0.0, 0.0),
    ("GET", "ws-stats", 0.01, 0.012, 0.0, 0.0), ("POST", "ws-broadcast", 0.002, 0.05, 0.003, 0.0),
    ("GET", "monitoring-health", 0.10, 0.004, 0.0, 0.0), ("GET", "monitoring-metrics", 0.02, 0.08, 0.0, 0.0),
    ("GET", "monitoring-system-metrics", 0.01, 0.015, 0.0, 0.0), ("GET", "alert-list", 0.01, 0.02, 0.0, 0.0),
    ("GET", "analytics-dashboard-overview", 0.01, 0.06, 0.001, 0.0),
    ("GET", "analytics-report-performance", 0.003, 0.12, 0.001, 0.0),
    ("GET", "analytics-report-users", 0.002, 0.09, 0.0, 0.0),
    ("GET", "analytics-export-metrics", 0.001, 0.9, 0.01, 0.01),
    ("GET", "cache-stats", 0.005, 0.01, 0.0, 0.0), ("POST", "backup-manual", 0.0005, 0.2, 0.02, 0.0),
    ("GET", "backup-history", 0.003, 0.03, 0.0, 0.0), ("GET", "schema", 0.0905, 0.25, 0.0, 0.0),
]
BOUNDS = histogram.LATENCY_BOUNDS
MIDPOINTS = [b / 2 if i == 0 else (BOUNDS[i - 1] + b) / 2 for i, b in enumerate(BOUNDS)] + [BOUNDS[-1] * 1.2]


def latency_shape(typical: float) -> list[float]:
    """Bucket probabilities of a log-normal latency around `typical` seconds."""
    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf((math.log(x) - math.log(typical)) / (0.8 * math.sqrt(2))))

    edges = [0.0, *(cdf(b) for b in BOUNDS), 1.0]
    return [edges[i + 1] - edges[i] for i in range(len(BOUNDS) + 1)]


SHAPES = {(m, r): latency_shape(t) for m, r, _, t, _, _ in ROUTES}
SHARE = sum(r[2] for r in ROUTES)


def day_cycle(minute: int) -> float:
    hour = (START + timedelta(minutes=minute)).hour + (minute % 60) / 60
    return 1 + 0.6 * math.sin((hour - 9) / 24 * 2 * math.pi)


CYCLE_MEAN = statistics.fmean(day_cycle(m) for m in range(24 * 60))


def split(count: int, shape: list[float]) -> list[int]:
    counts = [int(count * p) for p in shape]
    counts[max(range(len(shape)), key=shape.__getitem__)] += count - sum(counts)
    return counts


def request_rows() -> tuple[Iterator[tuple[Any, ...]], dict[tuple[datetime, str, str], list[Any]]]:
    hours: dict[tuple[datetime, str, str], list[Any]] = {}
    per_minute = REQUESTS / MINUTES / CYCLE_MEAN

    def rows() -> Iterator[tuple[Any, ...]]:
        for minute in range(MINUTES):
            bucket = START + timedelta(minutes=minute)
            hour = bucket.replace(minute=0)
            rate = per_minute * day_cycle(minute)
            for method, route, share, _, p5xx, p4xx in ROUTES:
                expected = rate * share / SHARE
                count = int(expected) + (1 if rng.random() < expected % 1 else 0)
                if not count:
                    continue
                counts = split(count, SHAPES[(method, route)])
                errors5 = min(count, int(count * p5xx) + (1 if rng.random() < (count * p5xx) % 1 else 0))
                errors4 = min(count - errors5, int(count * p4xx) + (1 if rng.random() < (count * p4xx) % 1 else 0))
                statuses = {"200": count - errors5 - errors4, "404": errors4, "500": errors5}
                duration = int(sum(n * m for n, m in zip(counts, MIDPOINTS, strict=True)) * 1_000_000)
                key = (hour, method, route)
                total = hours.setdefault(key, [0, 0, 0, {}, 0, histogram.empty(BOUNDS)])
                total[0] += count
                total[1] += errors4
                total[2] += errors5
                for status, n in statuses.items():
                    total[3][status] = total[3].get(status, 0) + n
                total[4] += duration
                histogram.merge(total[5], counts)
                yield (Tier.MINUTE, bucket, method, route, count, errors4, errors5, json.dumps(statuses), duration,
                       json.dumps(counts), count * 900, count * 3, count * 2000)

    return rows(), hours


REQUEST_FIELDS = ["tier", "bucket", "method", "route", "count", "client_errors", "server_errors", "statuses",
                  "duration_us", "histogram", "response_bytes", "db_queries", "db_time_us"]
SYSTEM_SERIES = ["cpu_percent", "memory_percent", "disk_percent", "load_1", "swap_percent", "process_rss_bytes",
                 "network_receive_bytes_per_second", "network_transmit_bytes_per_second", "websocket_connections",
                 "celery_queue_length"]


def system_value(name: str, t: float) -> float:
    day = math.sin(t / 86400 * 2 * math.pi)
    base = {"cpu_percent": 35 + 25 * day, "memory_percent": 60 + 8 * day, "disk_percent": 50 + 10 * t / (DAYS * 86400),
            "load_1": 1.2 + day, "swap_percent": 3.0, "process_rss_bytes": 1.5e9 + 2e8 * day,
            "network_receive_bytes_per_second": 4e6 + 3e6 * day, "network_transmit_bytes_per_second": 8e6 + 6e6 * day,
            "websocket_connections": 800 + 600 * day, "celery_queue_length": 5 + 4 * day}[name]
    return round(max(0.0, base * rng.uniform(0.85, 1.15)), 3)


def seed_system() -> tuple[int, int]:
    minutes: dict[tuple[datetime, str], list[float]] = {}

    def samples() -> Iterator[tuple[Any, ...]]:
        for i in range(MINUTES * 60 // SAMPLE_SECONDS):
            at = START + timedelta(seconds=i * SAMPLE_SECONDS)
            values = [system_value(name, i * SAMPLE_SECONDS) for name in SYSTEM_SERIES]
            minute = at.replace(second=0)
            for name, value in zip(SYSTEM_SERIES, values, strict=True):
                stat = minutes.setdefault((minute, name), [0, 0.0, math.inf, -math.inf])
                stat[0] += 1
                stat[1] += value
                stat[2] = min(stat[2], value)
                stat[3] = max(stat[3], value)
            yield (at, HOST, SAMPLE_SECONDS, *values, "[]", "[]", "[]", "{}", True)

    snapshots = copy(SystemSnapshot, ["timestamp", "host", "interval_seconds", *SYSTEM_SERIES, "mounts", "interfaces",
                                      "processes", "counters", "rolled_up"], samples())
    hours: dict[tuple[datetime, str], list[float]] = {}
    for (minute, name), (n, total, low, high) in minutes.items():
        stat = hours.setdefault((minute.replace(minute=0), name), [0, 0.0, math.inf, -math.inf])
        stat[0] += n
        stat[1] += total
        stat[2] = min(stat[2], low)
        stat[3] = max(stat[3], high)
    fields = ["tier", "bucket", "host", "metric", "labels", "count", "sum", "min", "max"]
    rollups = copy(MetricRollup, fields, ((Tier.MINUTE, b, HOST, name, "", *stat)
                                          for (b, name), stat in minutes.items()))
    rollups += copy(MetricRollup, fields, ((Tier.HOUR, b, HOST, name, "", *stat)
                                           for (b, name), stat in hours.items()))
    return snapshots, rollups


def seed_requests() -> tuple[int, int, int]:
    rows, hours = request_rows()
    minute_rows = copy(RequestRollup, REQUEST_FIELDS, rows)
    hour_rows = copy(RequestRollup, REQUEST_FIELDS, (
        (Tier.HOUR, hour, method, route, t[0], t[1], t[2], json.dumps(t[3]), t[4], json.dumps(t[5]), t[0] * 900,
         t[0] * 3, t[0] * 2000) for (hour, method, route), t in hours.items()))
    total = sum(t[0] for t in hours.values())
    return minute_rows, hour_rows, total


def seed_people_and_content() -> dict[str, int]:
    User = get_user_model()
    first = START - timedelta(days=365)
    users = copy(User, ["password", "username", "first_name", "last_name", "email", "is_staff", "is_active",
                        "is_superuser", "date_joined"],
                 (("!", f"user{i:05d}", "", "", f"user{i}@example.com", i < 5, True, False,
                   first + timedelta(seconds=rng.uniform(0, (NOW - first).total_seconds())))
                  for i in range(USERS)))
    ids = list(User.objects.order_by("id").values_list("id", flat=True))
    days = []
    for day in range(DAYS + 1):
        date = (START + timedelta(days=day)).date()
        for user_id in rng.sample(ids, 2500 + rng.randint(-300, 300)):
            seen = datetime.combine(date, datetime.min.time(), tzinfo=UTC) + timedelta(minutes=rng.randint(1, 1439))
            days.append((user_id, date, rng.randint(1, 400), seen))
    active_days = copy(ActiveUserDay, ["user", "day", "requests", "last_seen"], iter(days))
    logins = copy(Login, ["user", "at", "via"], ((u, seen, "token") for u, _, _, seen in days if rng.random() < 0.3))
    courses = copy(Course, ["title", "description", "owner", "is_published", "created_at", "updated_at"],
                   ((f"Course {i}", "", rng.choice(ids[:500]), rng.random() < 0.7, at, at) for i in range(COURSES)
                    for at in [START + timedelta(seconds=rng.uniform(0, DAYS * 86400))]))
    course_ids = list(Course.objects.values_list("id", flat=True))
    kinds = ["application/pdf", "text/plain", "video/mp4", "image/png", "application/zip"]

    def uploads() -> Iterator[tuple[Any, ...]]:
        for i in range(UPLOADS):
            created = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
            status = rng.choices(["done", "failed", "pending", "processing"], [90, 6, 3, 1])[0]
            started = created + timedelta(seconds=rng.uniform(0.1, 5)) if status != "pending" else None
            finished = started + timedelta(milliseconds=rng.lognormvariate(7, 1)) if status in ("done", "failed") \
                and started else None
            yield (rng.choice(ids), rng.choice(course_ids) if rng.random() < 0.5 else None, f"uploads/{i}",
                   f"file{i}", "", rng.randint(1_000, 50_000_000), status, uuid.uuid4(), "",
                   rng.choice(kinds) if status == "done" else "", "",
                   rng.choice(["ValueError: unreadable", "OSError: disk full", "TimeoutError"]) if status == "failed"
                   else "", 1, created, started, finished, started, None, created)

    upload_rows = copy(Upload, ["owner", "course", "file", "original_name", "declared_type", "size", "status",
                                "task_id", "checksum", "detected_type", "extracted_text", "failure_reason",
                                "attempts", "created_at", "started_at", "finished_at", "heartbeat_at", "claim",
                                "queued_at"], uploads())
    return {"users": users, "active_user_days": active_days, "logins": logins, "courses": courses,
            "uploads": upload_rows}


# --- measurement -----------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        begin = time.perf_counter()
        with cache_bypass():
            result = fn()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000, result


def agree(rolled: dict[str, Any], finest: dict[str, Any]) -> bool:
    keys = ("requests", "server_errors", "client_errors", "error_rate", "latency_ms", "apdex", "slowest_routes",
            "failing_routes")
    same = all(rolled[k] == finest[k] for k in keys)
    for metric, peak in rolled["system"].items():
        other = finest["system"][metric]
        # Averages: the same sums added in another order; equal to the rounding (3 decimals).
        same = same and peak["max"] == other["max"] and math.isclose(peak["avg"], other["avg"], rel_tol=1e-9,
                                                                    abs_tol=0.0011)
    return same


def main() -> None:
    begin = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"database {DATABASE} migrated in {time.perf_counter() - begin:.1f} s; generating {DAYS} days "
          f"({START:%Y-%m-%d %H:%M} to {NOW:%Y-%m-%d %H:%M} UTC)", flush=True)
    step = time.perf_counter()
    minute_rows, hour_rows, total = seed_requests()
    print(f"request rollups: {minute_rows:,} minute rows, {hour_rows:,} hour rows, {total:,} requests "
          f"({time.perf_counter() - step:.0f} s)", flush=True)
    step = time.perf_counter()
    snapshots, metric_rows = seed_system()
    print(f"system: {snapshots:,} samples, {metric_rows:,} metric rollup rows ({time.perf_counter() - step:.0f} s)",
          flush=True)
    step = time.perf_counter()
    people = seed_people_and_content()
    print(", ".join(f"{k}: {v:,}" for k, v in people.items()) + f" ({time.perf_counter() - step:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"generated and analyzed in {time.perf_counter() - begin:.0f} s\n", flush=True)

    print(f"{'call':<34} {'rollups (ms)':>13} {'finest rows (ms)':>17} {'ratio':>7}  figures")
    for days in (7, 14, 30):
        period = period_of(days=days)  # as the API reads ?days=N: midnight N-1 days ago to the end of this hour
        start, end = period.start, period.end
        fast, rolled = timed(lambda s=start, e=end: selectors.performance_report_uncached(s, e), ROUNDS)
        slow, finest = timed(lambda s=start, e=end: selectors.performance_report_direct(s, e), BASELINE_ROUNDS)
        print(f"performance report, days={days:<13} {fast:>13.1f} {slow:>17.1f} {slow / fast:>6.1f}x  "
              f"{'equal' if agree(rolled, finest) else 'DIFFER'} ({rolled['requests']:,} requests, "
              f"p95 {rolled['latency_ms']['p95']} ms, goal < 200 ms: {'met' if fast < 200 else 'MISSED'})", flush=True)
    fast, overview = timed(selectors.dashboard_overview, ROUNDS)
    slow, baseline = timed(lambda: selectors.dashboard_overview(day_tier=Tier.MINUTE), BASELINE_ROUNDS)
    same = overview["requests"]["last_24h"] == baseline["requests"]["last_24h"]
    goal = "met" if fast < 100 else "MISSED"
    print(f"{'dashboard overview':<34} {fast:>13.1f} {slow:>17.1f} {slow / fast:>6.1f}x  "
          f"{'equal' if same else 'DIFFER'} (24 h: {overview['requests']['last_24h']['requests']:,} requests; "
          f"unavailable: {sorted(overview['unavailable']) or 'none'}; goal < 100 ms: {goal})")
    print(f"\nmedian of {ROUNDS} uncached calls (baseline: median of {BASELINE_ROUNDS}); cache bypassed")


if __name__ == "__main__":
    main()
