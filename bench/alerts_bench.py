"""Alert engine benchmark: the CPU of one evaluation over all default rules.

    .venv/bin/python bench/alerts_bench.py     # REDIS_URL, or the embedded Redis under var/

A scratch SQLite database is migrated (the ten default rules are seeded), then filled as a
deployment would be: a host's latest sample, 6 h of minute rollups of the data disk filling up
(the two predictive rules regress over them), request counts of the last minutes in Redis (error
rate and p95 rules), backup facts for three configurations through MONITORING_ALERTS_BACKUP_FACTS,
and the real health checks (their report is reused for MONITORING_HEALTH_CACHE_SECONDS, as in
production, where the health endpoint and the rules share it).

1. CPU (process time) of `rules_evaluate()` over all enabled default rules, median of rounds, with
   the clock advanced 10 s per round as collection would: (a) quiet — nothing breaches; (b) busy —
   CPU, disk, error rate, p95, backlog and a backup breach, alerts pending then firing, their history
   rows written and their notifications queued after commit.
2. Per rule, the CPU of evaluating it alone (busy data).
3. Same-run baseline: one collection cycle (`services.snapshot_collect`), the work every evaluation
   follows; the ratio says what judging a sample costs next to taking it.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="alerts-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tecnocursos.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ.setdefault("REDIS_PREFIX", "tcalertbench")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["MONITORING_ALERTS_BACKUP_FACTS"] = "alerts_bench.backup_facts"

from tecnocursos.bootstrap import prepare_process  # noqa: E402

prepare_process()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from monitoring import redis_store, services  # noqa: E402
from monitoring.aggregator import Aggregator  # noqa: E402
from monitoring.alerting import services as alerts  # noqa: E402
from monitoring.alerting.forecast import forecast  # noqa: E402
from monitoring.alerting.models import Alert, AlertRule  # noqa: E402
from monitoring.models import MetricRollup, SystemSnapshot, Tier  # noqa: E402

ROUNDS = 40
HOST = "bench-1"
QUIET = {"cpu_percent": 35.0, "memory_percent": 55.0, "disk_percent": 45.0, "celery_queue_length": 2.0}
BUSY = {"cpu_percent": 97.0, "memory_percent": 93.0, "disk_percent": 86.0, "celery_queue_length": 250.0}
BUSY_BACKUPS = False


def backup_facts() -> list[dict[str, object]]:
    now = time.time()
    return [{"config": "nightly", "last_status": "failed" if BUSY_BACKUPS else "succeeded",
             "last_success_at": now - 3600},
            {"config": "weekly", "last_status": "succeeded", "last_success_at": now - 86400,
             "max_age_seconds": 8 * 86400},
            {"config": "media", "last_status": "succeeded", "last_success_at": now - 7200}]


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def seed_history(now: float, *, filling: bool) -> None:
    MetricRollup.objects.all().delete()
    rows = []
    for minute in range(360):
        bucket = (int(now) // 60 - 360 + minute) * 60
        disk = 62.0 + 4.0 * minute / 60 if filling else 45.0
        for metric, value in (("disk_percent", disk), ("cpu_percent", 40.0), ("memory_percent", 55.0)):
            rows.append(MetricRollup(tier=Tier.MINUTE, bucket=at(bucket), host=HOST, metric=metric, labels="",
                                     count=6, sum=6 * value, min=value, max=value))
    MetricRollup.objects.bulk_create(rows)


def seed_requests(*, errors: bool) -> None:
    aggregator = Aggregator()
    for i in range(600):
        status = 500 if errors and i % 10 == 0 else 200
        aggregator.record_request("GET", "upload-list", status, 1.6 if errors and i % 4 else 0.03)
    redis_store.flush(aggregator.drain(), server="bench")


def sample(moment: float, values: dict[str, float]) -> None:
    SystemSnapshot.objects.create(timestamp=at(moment), host=HOST, **values)


def evaluation_cpu(values: dict[str, float], start: float) -> list[float]:
    times = []
    for i in range(ROUNDS):
        moment = start + 10 * i
        sample(moment, values)
        begin = time.process_time()
        alerts.rules_evaluate(now=at(moment))
        times.append(time.process_time() - begin)
    return times


def per_rule_cpu(start: float) -> dict[str, float]:
    result = {}
    for rule in AlertRule.objects.filter(enabled=True).order_by("name"):
        times = []
        for i in range(10):
            begin = time.process_time()
            alerts.rules_evaluate(now=at(start + i), rule_ids=[rule.id])
            times.append(time.process_time() - begin)
        result[rule.name] = statistics.median(times)
    return result


def main() -> None:
    global BUSY_BACKUPS
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    call_command("migrate", verbosity=0, interactive=False)
    rules = AlertRule.objects.filter(enabled=True).count()
    services.snapshot_collect(force=True)  # warm-up: process discovery, imports
    collection: list[float] = []
    for _ in range(ROUNDS):
        begin = time.process_time()
        services.snapshot_collect(force=True)
        collection.append(time.process_time() - begin)
    SystemSnapshot.objects.all().delete()

    now = time.time()
    seed_history(now, filling=False)
    seed_requests(errors=False)
    forecast([(now - 60 * i, float(i)) for i in range(60)], limit=100.0, now=now)  # imports scikit-learn
    alerts.rules_evaluate(now=at(now - 1))  # warm-up: first reads
    quiet = evaluation_cpu(QUIET, now)

    Alert.objects.all().delete()
    AlertRule.objects.update(last_evaluated_at=None, state={})
    start = now + 3600
    seed_history(start, filling=True)
    seed_requests(errors=True)
    BUSY_BACKUPS = True
    busy = evaluation_cpu(BUSY, start)
    firing = Alert.objects.filter(state="firing").count()
    pending = Alert.objects.filter(state="pending").count()
    per_rule = per_rule_cpu(start + 10 * ROUNDS + 10)

    points = [(now - 60 * i, 50.0 + i / 60) for i in range(360)]
    regression = []
    for _ in range(ROUNDS):
        begin = time.process_time()
        forecast(points, limit=100.0, now=now)
        regression.append(time.process_time() - begin)

    base = statistics.median(collection)
    q, b = statistics.median(quiet), statistics.median(busy)
    print(f"\n{rules} enabled default rules, {ROUNDS} rounds each (median CPU per evaluation)")
    print(f"  (a) quiet: {q * 1000:.2f} ms   (b) busy: {b * 1000:.2f} ms  "
          f"[{firing} firing, {pending} pending at the end]")
    print(f"  baseline, one collection cycle: {base * 1000:.2f} ms")
    print(f"  ratio evaluation / collection: quiet {q / base:.2f}x, busy {b / base:.2f}x")
    print("  at one evaluation per 10 s sample: "
          f"{100 * q / 10:.3f} % (quiet) / {100 * b / 10:.3f} % (busy) of one core")
    print("  one forecast (scikit-learn least squares, 360 points, twice): "
          f"{statistics.median(regression) * 1000:.2f} ms")
    print("\nper rule, alone (busy data), median CPU:")
    for name, seconds in sorted(per_rule.items(), key=lambda item: -item[1]):
        print(f"  {seconds * 1000:7.2f} ms  {name}")


if __name__ == "__main__":
    main()
