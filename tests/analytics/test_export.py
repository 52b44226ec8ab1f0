"""GET /api/analytics/export/metrics: rows, formats, steps, streaming in bounded memory, bad input."""

from __future__ import annotations

import csv
import io
import json
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from analytics import export
from monitoring import redis_store
from monitoring.aggregator import Aggregator
from monitoring.models import MetricRollup, Tier
from tecnocursos.lib.timefmt import utc_iso
from tests.analytics.seed import metric_rollup, request_rollup, snapshot

pytestmark = pytest.mark.django_db
URL = "/api/analytics/export/metrics"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def body(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def rows(response) -> list[dict]:
    return json.loads(body(response))


def window(start: datetime, end: datetime) -> str:
    return f"start={start.isoformat().replace('+00:00', 'Z')}&end={end.isoformat().replace('+00:00', 'Z')}"


# --- who may call it ---------------------------------------------------------------------------


def test_anonymous_gets_401(anon_client):
    assert anon_client.get(URL).status_code == 401


def test_a_user_gets_403(outsider_client):
    assert outsider_client.get(URL).status_code == 403


def test_staff_gets_a_download(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="metrics-')
    assert response["Content-Disposition"].endswith('.json"')
    assert rows(response) == []


def test_a_staff_session_may_download(client, staff):
    client.force_login(staff)
    assert client.get(URL).status_code == 200


# --- rows ---------------------------------------------------------------------------------------


def test_raw_samples_and_request_minutes_in_timestamp_then_metric_order(staff_client):
    snapshot(T0 + timedelta(seconds=10), cpu_percent=12.5, memory_percent=40.0)
    snapshot(T0 + timedelta(seconds=70), cpu_percent=20.0, memory_percent=None)
    snapshot(T0 - timedelta(seconds=10), cpu_percent=99.0)  # before the range
    request_rollup(T0 + timedelta(minutes=1), latencies=[0.02] * 3 + [0.3], statuses={200: 3, 502: 1})
    response = staff_client.get(f"{URL}?{window(T0, T0 + timedelta(hours=1))}"
                                "&metric=cpu.percent,memory.percent,requests.per_s,requests.errors_per_s")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="metrics-20261120T120000Z-20261120T130000Z.json"'
    assert rows(response) == [
        {"timestamp": "2026-11-20T12:00:10Z", "metric": "cpu.percent", "value": 12.5},
        {"timestamp": "2026-11-20T12:00:10Z", "metric": "memory.percent", "value": 40.0},
        {"timestamp": "2026-11-20T12:01:00Z", "metric": "requests.errors_per_s", "value": round(1 / 60, 6)},
        {"timestamp": "2026-11-20T12:01:00Z", "metric": "requests.per_s", "value": round(4 / 60, 6)},
        {"timestamp": "2026-11-20T12:01:10Z", "metric": "cpu.percent", "value": 20.0},
    ]


def test_latency_percentiles_interpolate_the_merged_histogram(staff_client):
    # Two routes in the same minute: 8 requests in (0.01, 0.025], 2 in (0.25, 0.5].
    request_rollup(T0, route="a", latencies=[0.02] * 4)
    request_rollup(T0, route="b", latencies=[0.02] * 4 + [0.3] * 2)
    response = staff_client.get(f"{URL}?{window(T0, T0 + timedelta(minutes=5))}&metric=latency.p50_ms,latency.p95_ms")
    # p50: rank 5 of 8 in (10, 25] ms -> 10 + 15 * 5/8; p95: rank 9.5, 1.5 of 2 in (250, 500] -> 437.5
    assert rows(response) == [
        {"timestamp": "2026-11-20T12:00:00Z", "metric": "latency.p50_ms", "value": 19.375},
        {"timestamp": "2026-11-20T12:00:00Z", "metric": "latency.p95_ms", "value": 437.5},
    ]


def test_csv_has_the_header_and_the_same_rows(staff_client):
    snapshot(T0 + timedelta(seconds=10), cpu_percent=12.5, load_1=0.75)
    response = staff_client.get(f"{URL}?format=csv&{window(T0, T0 + timedelta(hours=1))}&metric=cpu.percent,load.1m")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith('.csv"')
    table = list(csv.reader(io.StringIO(body(response).decode())))
    assert table == [["timestamp", "metric", "value"], ["2026-11-20T12:00:10Z", "cpu.percent", "12.5"],
                     ["2026-11-20T12:00:10Z", "load.1m", "0.75"]]


def test_auto_step_reads_minute_rollups_up_to_three_days_averaged_over_hosts(staff_client):
    snapshot(T0 + timedelta(seconds=10), cpu_percent=1.0)  # raw: not read at this step
    metric_rollup(T0, "cpu_percent", [10.0, 20.0], host="web-1")
    metric_rollup(T0, "cpu_percent", [60.0], host="web-2")
    metric_rollup(T0, "cpu_percent", [50.0], tier=Tier.HOUR)
    response = staff_client.get(f"{URL}?{window(T0, T0 + timedelta(days=2))}&metric=cpu.percent")
    assert rows(response) == [{"timestamp": "2026-11-20T12:00:00Z", "metric": "cpu.percent", "value": 30.0}]


def test_auto_step_reads_hour_rollups_beyond_three_days(staff_client):
    metric_rollup(T0, "cpu_percent", [10.0], tier=Tier.MINUTE)
    metric_rollup(T0, "cpu_percent", [50.0], tier=Tier.HOUR)
    request_rollup(T0, tier=Tier.HOUR, latencies=[0.02] * 36)
    response = staff_client.get(f"{URL}?{window(T0 - timedelta(days=20), T0 + timedelta(days=10))}"
                                "&metric=cpu.percent,requests.per_s")
    assert rows(response) == [{"timestamp": "2026-11-20T12:00:00Z", "metric": "cpu.percent", "value": 50.0},
                              {"timestamp": "2026-11-20T12:00:00Z", "metric": "requests.per_s", "value": 0.01}]


def test_an_explicit_step_overrides_auto(staff_client):
    metric_rollup(T0, "cpu_percent", [50.0], tier=Tier.HOUR)
    response = staff_client.get(f"{URL}?{window(T0, T0 + timedelta(hours=2))}&metric=cpu.percent&step=hour")
    assert rows(response) == [{"timestamp": "2026-11-20T12:00:00Z", "metric": "cpu.percent", "value": 50.0}]


def test_all_metrics_by_default(staff_client):
    snapshot(T0 + timedelta(seconds=10), cpu_percent=1.0, memory_percent=2.0, disk_percent=3.0, load_1=4.0,
             network_receive_bytes_per_second=5.0, network_transmit_bytes_per_second=6.0, websocket_connections=7.0)
    request_rollup(T0, latencies=[0.02])
    names = {row["metric"] for row in rows(staff_client.get(f"{URL}?{window(T0, T0 + timedelta(hours=1))}"))}
    assert names == set(export.METRICS)


# --- minutes not rolled up yet ------------------------------------------------------------------


def _count_in_redis(at: float, statuses: list[int]) -> None:
    """Requests as the middleware leaves them in Redis until the rollup takes their minute."""
    aggregator = Aggregator(clock=lambda: at)
    for status in statuses:
        aggregator.record_request("GET", "upload-list", status, 0.02)
    redis_store.flush(aggregator.drain(), server="test")


def test_a_fresh_installs_default_export_has_the_current_minute(staff_client):
    now = time.time()
    minute = datetime.fromtimestamp(now // 60 * 60, tz=UTC)
    snapshot(datetime.fromtimestamp(now, tz=UTC) - timedelta(microseconds=1), cpu_percent=30.0)
    snapshot(datetime.fromtimestamp(now, tz=UTC), cpu_percent=40.0)
    _count_in_redis(now, [200] * 5 + [500])
    before = time.time()
    found = rows(staff_client.get(f"{URL}?metric=cpu.percent,requests.per_s,requests.errors_per_s"))
    after = time.time()
    assert {row["timestamp"] for row in found} == {utc_iso(minute)}  # 24 h per minute, nothing rolled up yet
    values = {row["metric"]: row["value"] for row in found}
    assert values["cpu.percent"] == 35.0
    # The current minute's rates are per the part of it gone by, not per the whole minute.
    slowest, fastest = (min(60.0, max(1.0, t - minute.timestamp())) for t in (after, before))
    assert 6 / slowest - 1e-6 <= values["requests.per_s"] <= 6 / fastest + 1e-6
    assert values["requests.errors_per_s"] == pytest.approx(values["requests.per_s"] / 6, abs=1e-6)


def test_a_minute_already_rolled_up_is_read_from_its_rollup_only(staff_client):
    metric_rollup(T0, "cpu_percent", [10.0])
    request_rollup(T0, latencies=[0.02] * 6)
    snapshot(T0 + timedelta(seconds=10), cpu_percent=90.0)  # late: its minute is recomputed on the next rollup
    _count_in_redis(T0.timestamp() + 30, [200] * 60)  # flushed after the claim: rolled up next time
    # The next minute is closed but not rolled up yet: from its snapshot and from Redis, per whole minute.
    snapshot(T0 + timedelta(seconds=70), cpu_percent=50.0)
    _count_in_redis(T0.timestamp() + 70, [200] * 12)
    found = rows(staff_client.get(f"{URL}?{window(T0, T0 + timedelta(hours=1))}&step=minute"
                                  "&metric=cpu.percent,requests.per_s"))
    assert [(row["timestamp"], row["metric"], row["value"]) for row in found] == [
        ("2026-11-20T12:00:00Z", "cpu.percent", 10.0), ("2026-11-20T12:00:00Z", "requests.per_s", 0.1),
        ("2026-11-20T12:01:00Z", "cpu.percent", 50.0), ("2026-11-20T12:01:00Z", "requests.per_s", 0.2)]


def test_without_redis_the_export_still_answers_from_the_rollups(staff_client, monkeypatch):
    request_rollup(T0, latencies=[0.02] * 6)

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(redis_store, "pending_minutes", down)
    found = rows(staff_client.get(f"{URL}?{window(T0, T0 + timedelta(hours=1))}&step=minute&metric=requests.per_s"))
    assert found == [{"timestamp": "2026-11-20T12:00:00Z", "metric": "requests.per_s", "value": 0.1}]


# --- streaming ----------------------------------------------------------------------------------


def _seed_minutes(days: int) -> None:
    MetricRollup.objects.bulk_create([
        MetricRollup(tier=Tier.MINUTE, bucket=T0 + timedelta(minutes=i), host="web-1", metric=metric,
                     count=6, sum=6.0 * (i % 100), min=0.0, max=float(i % 100))
        for i in range(days * 1440) for metric in ("cpu_percent", "memory_percent")
    ], batch_size=5000)


def test_a_large_range_is_read_one_window_at_a_time(staff_client):
    _seed_minutes(3)
    response = staff_client.get(f"{URL}?{window(T0, T0 + timedelta(days=3))}&metric=cpu.percent,memory.percent")
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as first:
        next(chunks)  # "["
        next(chunks)  # the first window's rows
    # One window read, not the range: its rollups, and its snapshots not rolled up yet.
    assert len(first.captured_queries) == 2
    with CaptureQueriesContext(connection) as rest:
        tail = b"".join(chunks)
    assert len(rest.captured_queries) == 2 * (3 * 24 // 6 - 1)  # two queries per 6 h window
    assert tail.endswith(b"]")


def _peak_while_streaming(client, days: int) -> tuple[int, int]:
    response = client.get(f"{URL}?format=csv&{window(T0, T0 + timedelta(days=days))}"
                          "&metric=cpu.percent,memory.percent&step=minute")
    total = 0
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return total, peak


def test_memory_stays_bounded_while_streaming_a_large_range(staff_client):
    _seed_minutes(4)
    _peak_while_streaming(staff_client, 1)  # warm up: imports, compiled queries
    small_total, small_peak = _peak_while_streaming(staff_client, 1)
    large_total, large_peak = _peak_while_streaming(staff_client, 4)
    assert large_total > 3.9 * small_total > 400_000  # 11,520 rows against 2,880
    assert large_peak < 1.5 * small_peak  # a window's rows at a time, never the whole export


def test_under_asgi_the_chunks_are_pulled_one_by_one():
    produced: list[int] = []

    def chunks():
        for i in range(3):
            produced.append(i)
            yield str(i).encode()

    async def first_then_rest() -> tuple[bytes, list[int], list[bytes]]:
        stream = export.as_async(chunks())
        first = await stream.__anext__()
        seen = list(produced)
        return first, seen, [chunk async for chunk in stream]

    first, seen, rest = async_to_sync(first_then_rest)()
    assert (first, seen, rest) == (b"0", [0], [b"1", b"2"])


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query, field", [
    ("format=xml", "format"),
    ("start=yesterday", "start"),
    ("end=2026-13-01T00:00:00Z", "end"),
    ("start=2026-11-20T12:00:00Z&end=2026-11-20T12:00:00Z", "start"),
    ("start=2026-11-21T00:00:00Z&end=2026-11-20T00:00:00Z", "start"),
    ("start=2025-01-01T00:00:00Z&end=2026-11-20T00:00:00Z", "start"),
    ("step=second", "step"),
    ("metric=", "metric"),
    ("format=", "format"),
])
def test_bad_values_are_a_400_naming_the_field(staff_client, query, field):
    response = staff_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


def test_an_unknown_metric_lists_the_valid_ones(staff_client):
    response = staff_client.get(f"{URL}?metric=cpu.percent,cpu.temperature")
    assert response.status_code == 400
    message = response.json()["metric"][0]
    assert "cpu.temperature" in message and "latency.p99_ms" in message and "websocket.connections" in message


def test_a_range_of_exactly_366_days_is_allowed(staff_client):
    end = T0
    response = staff_client.get(f"{URL}?{window(end - timedelta(days=366), end)}&metric=cpu.percent")
    assert response.status_code == 200
