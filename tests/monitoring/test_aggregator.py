"""In-process aggregation: counts, histograms and users survive the trip through hash fields."""

from __future__ import annotations

import threading

from monitoring.aggregator import Aggregator, label, parse


class Clock:
    def __init__(self, now: float = 1_700_000_030.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_requests_are_counted_per_minute_route_and_status_and_read_back_exactly():
    clock = Clock()
    agg = Aggregator(clock=clock)
    agg.record_request(method="GET", route="upload-list", status=200, seconds=0.004, response_bytes=100, user_id=7,
                       db_queries=2, db_seconds=0.001)
    agg.record_request(method="GET", route="upload-list", status=500, seconds=0.3, response_bytes=20, user_id=7)
    clock.now += 60
    agg.record_request(method="POST", route="upload-list", status=201, seconds=0.02, user_id=None)
    minutes = agg.drain().minute_fields()
    assert len(minutes) == 2
    first = parse(minutes[1_700_000_000 - 1_700_000_000 % 60])
    stats = first.requests[("GET", "upload-list")]
    assert (stats.count, stats.statuses, stats.duration_us, stats.response_bytes) == (2, {200: 1, 500: 1}, 304000, 120)
    assert (stats.db_queries, stats.db_time_us) == (2, 1000)
    assert stats.histogram[0] == 1 and sum(stats.histogram) == 2
    assert first.users == {7: 2}


def test_totals_carry_no_user_fields():
    agg = Aggregator(clock=Clock())
    agg.record_request(method="GET", route="r", status=200, seconds=0.01, user_id=3)
    assert not [name for name in agg.drain().total_fields() if name.startswith("u|")]


def test_tasks_and_events_round_trip():
    agg = Aggregator(clock=Clock())
    agg.record_task(task="core.tasks.process", state="success", seconds=0.2)
    agg.record_task(task="core.tasks.process", state="failure", seconds=None)
    agg.record_event("closed|4401")
    agg.record_event("closed|4401")
    batch = agg.drain()
    parsed = parse(batch.total_fields())
    task = parsed.tasks["core.tasks.process"]
    assert (task.states, task.count, task.runtime_us, sum(task.histogram)) == (
        {"success": 1, "failure": 1}, 2, 200000, 1)
    assert parse(batch.event_fields()).events == {"closed|4401": 2}


def test_labels_cannot_forge_fields():
    assert label("a|b") == "a/b"
    agg = Aggregator(clock=Clock())
    agg.record_request(method="GET", route=label("x|200|y"), status=200, seconds=0.01)
    parsed = parse(agg.drain().total_fields())
    assert list(parsed.requests) == [("GET", "x/200/y")]


def test_unknown_or_broken_fields_are_skipped():
    parsed = parse({"h|n|GET|r|200": "3", "h|n|GET|r|abc": "1", "zz|1": "1", "h|b|GET|r|99": "1", "u|x": "1"})
    assert parsed.requests[("GET", "r")].count == 3
    assert parsed.users == {}


def test_a_batch_put_back_keeps_recent_minutes_only():
    clock = Clock()
    agg = Aggregator(clock=clock)
    agg.record_request(method="GET", route="old", status=200, seconds=0.01)
    old = agg.drain()
    clock.now += 7200
    agg.record_request(method="GET", route="new", status=200, seconds=0.01)
    recent = agg.drain()
    old.merge(recent)
    agg.restore(old, max_age_seconds=3600)
    assert {route for _, _, route in agg.drain().requests} == {"new"}


def test_concurrent_recording_loses_nothing():
    agg = Aggregator(clock=Clock())

    def hammer() -> None:
        for _ in range(2000):
            agg.record_request(method="GET", route="r", status=200, seconds=0.001)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert parse(agg.drain().total_fields()).requests[("GET", "r")].count == 8000
