"""GET /api/analytics/reports/performance: exact figures from the rollups, the previous period,
and the hour-rollup report against the same figures from the finest rows and from the raw data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from analytics import selectors
from monitoring import histogram, redis_store, services
from monitoring.aggregator import Aggregator, quantile_ms
from monitoring.models import SystemSnapshot, Tier
from tests.analytics.seed import metric_rollup

pytestmark = pytest.mark.django_db
URL = "/api/analytics/reports/performance"
START, END = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)
PERIOD = "start=2026-11-10T00:00:00Z&end=2026-11-17T00:00:00Z"  # 7 days: hour rollups


def record(at: datetime, requests: list[tuple[str, str, int, float]]) -> None:
    """Requests (method, route, status, seconds) counted as the middleware would, then rolled up."""
    aggregator = Aggregator(clock=lambda: at.timestamp())
    for method, route, status, seconds in requests:
        aggregator.record_request(method, route, status, seconds)
    redis_store.flush(aggregator.drain(), server="test")
    services.requests_rollup(now=at.timestamp() + 600)


@pytest.fixture
def seeded(db):
    record(datetime(2026, 11, 11, 10, 0, 5, tzinfo=UTC),
           [("GET", "upload-list", 200, 0.02)] * 8 + [("GET", "upload-list", 200, 0.3)] * 2)
    record(datetime(2026, 11, 11, 10, 1, 5, tzinfo=UTC),
           [("GET", "course-detail", 200, 0.6)] * 4 + [("GET", "course-detail", 500, 3.0)])
    record(datetime(2026, 11, 12, 15, 30, tzinfo=UTC),
           [("POST", "upload-list", 201, 0.004)] * 4 + [("POST", "upload-list", 400, 0.004)])
    record(datetime(2026, 11, 5, 12, 0, tzinfo=UTC), [("GET", "upload-list", 200, 0.02)] * 10)  # previous period
    metric_rollup(datetime(2026, 11, 11, 10, tzinfo=UTC), "cpu_percent", [10.0, 20.0, 95.0], tier=Tier.HOUR)
    metric_rollup(datetime(2026, 11, 12, 15, tzinfo=UTC), "cpu_percent", [30.0, 50.0], tier=Tier.HOUR)
    metric_rollup(datetime(2026, 11, 12, 15, tzinfo=UTC), "cpu_percent", [99.0], tier=Tier.MINUTE)  # other tier


def test_totals_error_rate_latency_and_apdex(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    assert report["resolution"] == "hour"
    assert (report["requests"], report["server_errors"], report["client_errors"], report["error_rate"]) == (
        20, 1, 1, 0.05)
    # Buckets: 5 <= 5 ms, 8 in (10, 25], 2 in (250, 500], 4 in (500, 750], 1 in (2500, 5000] ms.
    assert report["latency_ms"] == {"p50": 19.375, "p95": 750.0, "p99": 4500.0, "avg": 309.0}
    assert report["apdex"] == 0.8  # (13 satisfied + 6 tolerating / 2) / 20
    assert report["throughput_per_minute"] == {"avg": 0.002, "peak": 0.25, "peak_at": "2026-11-11T10:00:00Z"}


def test_slowest_and_most_failing_routes(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    assert [(r["method"], r["route"], r["requests"], r["latency_ms"]["p95"]) for r in report["slowest_routes"]] == [
        ("GET", "course-detail", 5, 4375.0), ("GET", "upload-list", 10, 437.5), ("POST", "upload-list", 5, 4.75)]
    assert [(r["route"], r["server_errors"], r["error_rate"]) for r in report["failing_routes"]] == [
        ("course-detail", 1, 0.2)]


def test_system_peaks_from_the_hour_rollups(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    assert report["system"] == {"cpu_percent": {"max": 95.0, "avg": 41.0}}


def test_compared_with_the_previous_period(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    previous = report["previous"]
    assert previous["period"] == {"start": "2026-11-03T00:00:00Z", "end": "2026-11-10T00:00:00Z"}
    assert (previous["requests"], previous["error_rate"], previous["apdex"]) == (10, 0.0, 1.0)
    assert (previous["latency_ms"]["p50"], previous["latency_ms"]["p95"]) == (17.5, 24.25)
    assert report["change"]["requests"] == {"delta": 10, "percent": 100.0}
    assert report["change"]["error_rate"] == {"delta": 0.05, "percent": None}
    assert report["change"]["latency_ms.p50"] == {"delta": 1.875, "percent": 10.71}
    assert report["change"]["apdex"] == {"delta": -0.2, "percent": -20.0}


def test_a_short_range_reads_the_minute_rollups(staff_client, seeded, settings):
    settings.MONITORING_MINUTE_RETENTION_DAYS = 3650  # minute rows of that day still kept
    report = staff_client.get(f"{URL}?start=2026-11-11T10:00:00Z&end=2026-11-11T10:01:00Z").json()
    assert report["resolution"] == "minute"
    assert report["requests"] == 10  # the 10:01 minute is outside


def test_who_may_read_it(anon_client, outsider_client, staff_client):
    assert anon_client.get(URL).status_code == 401
    assert outsider_client.get(URL).status_code == 403
    assert staff_client.get(URL).status_code == 200


# --- the rollups agree with the finest rows and with the raw data ---------------------------------------


def test_the_hour_rollup_report_equals_the_minute_rows_and_a_direct_computation():
    rng = random.Random(12)
    routes = [("GET", "upload-list"), ("POST", "upload-list"), ("GET", "course-detail"), ("GET", "health")]
    start = datetime(2026, 11, 10, 6, tzinfo=UTC)
    raw: list[tuple[str, str, int, float]] = []
    for minute in range(0, 8 * 60, 7):  # eight hours, a batch every 7 minutes
        batch = [(*rng.choice(routes), rng.choice([200] * 30 + [404, 500]), rng.lognormvariate(-3.5, 1.2))
                 for _ in range(rng.randint(1, 40))]
        raw += batch
        record(start + timedelta(minutes=minute, seconds=3), batch)
        SystemSnapshot.objects.create(timestamp=start + timedelta(minutes=minute, seconds=10), host="h1",
                                      cpu_percent=rng.uniform(0, 100), memory_percent=rng.uniform(20, 80))
    services.system_rollup(now=start + timedelta(hours=9))
    end = start + timedelta(hours=8)

    rolled = selectors.performance_report_uncached(start, end)
    finest = selectors.performance_report_direct(start, end)
    assert rolled["resolution"] == "hour" and finest["resolution"] == "minute"
    for key in ("requests", "server_errors", "client_errors", "error_rate", "latency_ms", "apdex", "slowest_routes",
                "failing_routes"):
        assert rolled[key] == finest[key], key
    assert rolled["throughput_per_minute"]["avg"] == finest["throughput_per_minute"]["avg"]
    for metric in ("cpu_percent", "memory_percent"):
        assert rolled["system"][metric]["max"] == finest["system"][metric]["max"]
        assert rolled["system"][metric]["avg"] == pytest.approx(finest["system"][metric]["avg"], abs=0.001)

    # And from the raw requests themselves: counts exactly, percentiles from their own histogram.
    counts = histogram.empty(histogram.LATENCY_BOUNDS)
    for _, _, _, seconds in raw:
        counts[histogram.bucket_index(histogram.LATENCY_BOUNDS, seconds)] += 1
    assert rolled["requests"] == len(raw)
    assert rolled["server_errors"] == sum(1 for r in raw if r[2] >= 500)
    assert rolled["client_errors"] == sum(1 for r in raw if 400 <= r[2] < 500)
    assert rolled["latency_ms"]["p95"] == quantile_ms(counts, 0.95)
    assert rolled["latency_ms"]["p99"] == quantile_ms(counts, 0.99)
    satisfied = sum(1 for r in raw if r[3] <= 0.25)
    tolerating = sum(1 for r in raw if 0.25 < r[3] <= 1.0)
    assert rolled["apdex"] == round((satisfied + tolerating / 2) / len(raw), 4)
