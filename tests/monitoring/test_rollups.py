"""Rollups per minute and per hour: snapshots summarized, request and task counts moved from Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring import redis_store, selectors, services
from monitoring.aggregator import Aggregator
from monitoring.models import ActiveUserDay, MetricRollup, RequestRollup, RollupClaim, SystemSnapshot, TaskRollup, Tier
from tests.monitoring.fakes import FakeMachine, process

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC).timestamp()  # a minute and hour boundary


def collect_at(machine: FakeMachine, at: float, cpu_busy: float, host: str = "h1") -> SystemSnapshot:
    seconds = at - machine.at
    machine.advance(seconds, cpu={"user": cpu_busy * seconds, "idle": (1 - cpu_busy) * seconds})
    return services.snapshot_collect(host=host, reader=machine.read, force=True)


def minute_row(metric: str, minute: float, labels: str = "", tier: str = Tier.MINUTE) -> MetricRollup:
    return MetricRollup.objects.get(metric=metric, tier=tier, bucket=datetime.fromtimestamp(minute, UTC),
                                    labels=labels)


def test_snapshots_of_closed_minutes_become_minute_and_hour_rollups():
    machine = FakeMachine(at=T0 - 10, processes=[process(1, "daphne", 0.0), process(2, "daphne", 0.0)])
    collect_at(machine, T0 - 1, 0.5)  # the previous minute (previous hour too)
    for offset, busy in ((10, 0.2), (20, 0.4), (30, 0.6)):
        collect_at(machine, T0 + offset, busy)
    collect_at(machine, T0 + 70, 0.9)  # next minute
    assert services.system_rollup(now=datetime.fromtimestamp(T0 + 65, UTC)) == 2  # minute T0 and T0-60
    cpu = minute_row("cpu_percent", T0)
    assert (cpu.count, cpu.min, cpu.max) == (3, 20.0, 60.0)
    assert cpu.avg == pytest.approx(40.0)
    assert minute_row("disk_mount_percent", T0, labels="/data").max == 90.0
    assert minute_row("process_role_rss_bytes", T0, labels="daphne").max == 200e6  # both daphne processes
    hour = minute_row("cpu_percent", T0, tier=Tier.HOUR)
    assert (hour.count, hour.sum) == (3, cpu.sum)
    # The last snapshot's minute is still open: not rolled up yet.
    assert SystemSnapshot.objects.filter(rolled_up=False).count() == 1


def test_a_rollup_run_again_changes_nothing_and_a_late_snapshot_is_added():
    machine = FakeMachine(at=T0 - 10)
    services.snapshot_collect(host="h1", reader=machine.read, force=True)  # the baseline: no rates yet
    collect_at(machine, T0 + 5, 0.5)
    collect_at(machine, T0 + 15, 0.1)
    later = datetime.fromtimestamp(T0 + 120, UTC)
    services.system_rollup(now=later)
    assert services.system_rollup(now=later) == 0
    assert minute_row("cpu_percent", T0).count == 2
    # A snapshot of that minute arrives late (a backlog): the minute and its hour are recomputed.
    SystemSnapshot.objects.create(timestamp=datetime.fromtimestamp(T0 + 50, UTC), host="h1", cpu_percent=99.0)
    assert services.system_rollup(now=later) == 1
    assert (minute_row("cpu_percent", T0).count, minute_row("cpu_percent", T0).max) == (3, 99.0)
    assert minute_row("cpu_percent", T0, tier=Tier.HOUR).count == 3


def test_series_read_back_from_the_rollups():
    machine = FakeMachine(at=T0 - 10)
    services.snapshot_collect(host="h1", reader=machine.read, force=True)
    for minute in range(3):
        collect_at(machine, T0 + 60 * minute + 5, 0.1 * (minute + 1))
    services.system_rollup(now=datetime.fromtimestamp(T0 + 600, UTC))
    points = selectors.metric_series(metric="cpu_percent", start=datetime.fromtimestamp(T0, UTC),
                                     end=datetime.fromtimestamp(T0 + 180, UTC), tier=Tier.MINUTE)
    assert [round(p["avg"]) for p in points] == [10, 20, 30]


def flush_requests(at: float, *requests: dict) -> None:
    aggregator = Aggregator(clock=lambda: at)
    for request in requests:
        aggregator.record_request(**{"method": "GET", "route": "upload-list", "status": 200, "seconds": 0.01,
                                     **request})
    redis_store.flush(aggregator.drain(), server="test")


def test_closed_minutes_of_request_counts_move_into_minute_and_hour_rows(owner, member):
    flush_requests(T0 + 1, {"user_id": owner.id}, {"status": 500, "seconds": 0.2, "user_id": member.id})
    flush_requests(T0 + 61, {"route": "course-list", "user_id": owner.id})
    # A minute is taken only once every process has flushed it.
    assert services.requests_rollup(now=T0 + 61) == 0
    assert services.requests_rollup(now=T0 + 200) == 2
    row = RequestRollup.objects.get(tier=Tier.MINUTE, route="upload-list")
    assert (row.count, row.server_errors, row.statuses) == (2, 1, {"200": 1, "500": 1})
    assert row.duration_us == 210_000 and sum(row.histogram) == 2
    hour = RequestRollup.objects.filter(tier=Tier.HOUR)
    assert {(r.route, r.count) for r in hour} == {("upload-list", 2), ("course-list", 1)}
    day = ActiveUserDay.objects.get(user=owner)
    assert day.requests == 2 and day.last_seen == datetime.fromtimestamp(T0 + 120, UTC)
    assert redis_store.due_minutes(T0 + 10_000) == []


def test_counts_flushed_late_for_a_rolled_up_minute_are_added_not_lost():
    flush_requests(T0 + 1, {})
    services.requests_rollup(now=T0 + 200)
    flush_requests(T0 + 2, {}, {})  # a process that flushed late
    services.requests_rollup(now=T0 + 300)
    assert RequestRollup.objects.get(tier=Tier.MINUTE).count == 3
    assert RequestRollup.objects.get(tier=Tier.HOUR).count == 3


def test_a_claim_applied_twice_counts_once():
    flush_requests(T0 + 1, {}, {})
    claim = redis_store.claim_minute(int(T0))
    assert services._apply_claim(claim) == 1
    # The rollup died before deleting the claim: it is taken up again as stale, and skipped.
    redis_store.client().hset(claim, "h|n|GET|upload-list|200", 2)
    redis_store.client().zadd(redis_store.key("claims"), {claim: T0})
    assert services.requests_rollup(now=T0 + 10_000) == 0
    assert RequestRollup.objects.get(tier=Tier.MINUTE).count == 2
    assert RollupClaim.objects.filter(token=claim).exists()
    assert redis_store.stale_claims(T0 + 10_000) == []


def test_a_claim_left_half_done_is_finished_by_a_later_run():
    flush_requests(T0 + 1, {})
    claim = redis_store.claim_minute(int(T0), now=T0 + 90)  # a run that died right after claiming
    assert claim is not None
    assert services.requests_rollup(now=T0 + 100) == 0  # not stale yet
    assert services.requests_rollup(now=T0 + 100 + services.STALE_CLAIM_SECONDS) == 1
    assert RequestRollup.objects.get(tier=Tier.MINUTE).count == 1


def test_task_runs_are_rolled_up_per_task():
    aggregator = Aggregator(clock=lambda: T0 + 5)
    aggregator.record_task(task="core.tasks.process_upload", state="success", seconds=1.5)
    aggregator.record_task(task="core.tasks.process_upload", state="failure", seconds=0.5)
    aggregator.record_task(task="core.tasks.process_upload", state="retry", seconds=0.1)
    redis_store.flush(aggregator.drain(), server="w")
    services.requests_rollup(now=T0 + 200)
    row = TaskRollup.objects.get(tier=Tier.MINUTE)
    assert (row.count, row.failures, row.retries, row.runtime_us) == (3, 1, 1, 2_100_000)
    summary = selectors.task_summary(start=datetime.fromtimestamp(T0, UTC), end=datetime.fromtimestamp(T0 + 60, UTC),
                                     tier=Tier.MINUTE)
    assert summary[0]["runs"] == 3 and summary[0]["avg_runtime_ms"] == 700.0


def test_requests_of_a_deleted_user_are_counted_without_them(owner):
    gone_id = owner.id
    owner.delete()
    flush_requests(T0 + 1, {"user_id": gone_id})
    services.requests_rollup(now=T0 + 200)
    assert RequestRollup.objects.get(tier=Tier.MINUTE).count == 1
    assert not ActiveUserDay.objects.exists()


def test_request_summaries_and_slowest_routes_come_from_the_histograms():
    flush_requests(T0 + 1, *([{"seconds": 0.004}] * 98), {"seconds": 0.9, "status": 500}, {"seconds": 3.0},
                   {"route": "slow", "seconds": 2.0})
    services.requests_rollup(now=T0 + 200)
    start, end = datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + 60, UTC)
    summary = selectors.request_summary(start=start, end=end)
    assert summary["requests"] == 101 and summary["server_errors"] == 1
    assert summary["error_rate"] == round(1 / 101, 6)
    assert summary["latency_ms"]["p50"] <= 5.0
    routes = selectors.request_routes(start=start, end=end, order="p95", limit=1)
    assert routes[0]["route"] == "slow"


def test_retention_keeps_each_tier_for_its_own_time(settings):
    settings.MONITORING_SNAPSHOT_RETENTION_HOURS = 1
    settings.MONITORING_MINUTE_RETENTION_DAYS = 1
    settings.MONITORING_HOUR_RETENTION_DAYS = 10
    now = datetime(2026, 3, 20, tzinfo=UTC)
    SystemSnapshot.objects.create(timestamp=now - timedelta(hours=2), host="h")
    SystemSnapshot.objects.create(timestamp=now - timedelta(minutes=30), host="h")
    for tier, age in ((Tier.MINUTE, timedelta(days=2)), (Tier.MINUTE, timedelta(hours=2)),
                      (Tier.HOUR, timedelta(days=11)), (Tier.HOUR, timedelta(days=2))):
        MetricRollup.objects.create(tier=tier, bucket=now - age, host="h", metric="cpu_percent", count=1, sum=1,
                                    min=1, max=1)
        RequestRollup.objects.create(tier=tier, bucket=now - age, method="GET", route="r")
    result = services.retention_enforce(now=now)
    assert result["snapshots"] == 1 and result["metric_rollups"] == 2 and result["request_rollups"] == 2
    assert SystemSnapshot.objects.count() == 1
    assert sorted(MetricRollup.objects.values_list("tier", flat=True)) == [Tier.HOUR, Tier.MINUTE]


def test_the_recent_summary_joins_rolled_up_minutes_and_those_still_in_redis():
    import time

    now = time.time()
    flush_requests(now - 120, {"status": 500})  # two minutes ago: rolled up below
    services.requests_rollup(now=now)
    flush_requests(now, {}, {})  # this minute: still in Redis
    summary = selectors.request_summary_recent(minutes=5)
    assert summary["requests"] == 3 and summary["server_errors"] == 1


def test_the_latest_value_of_a_series():
    machine = FakeMachine()
    services.snapshot_collect(host="h1", reader=machine.read, force=True)
    assert selectors.metric_latest(metric="memory_percent") == 25.0
    assert selectors.metric_latest(metric="memory_percent", host="elsewhere") is None
    with pytest.raises(Exception, match="Unknown metric"):
        selectors.metric_latest(metric="nope")
