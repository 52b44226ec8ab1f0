"""A collection cycle: fake machine readings in, snapshot rows with rates out."""

from __future__ import annotations

import time

import pytest

from monitoring import redis_store, services
from monitoring.catalog import SNAPSHOT_METRIC_NAMES
from monitoring.models import SystemSnapshot
from tests.monitoring.fakes import FakeMachine, process

pytestmark = pytest.mark.django_db


def test_the_first_snapshot_of_a_host_has_gauges_and_no_rates():
    machine = FakeMachine()
    snapshot = services.snapshot_collect(host="h1", reader=machine.read)
    assert snapshot is not None
    assert (snapshot.memory_percent, snapshot.disk_percent, snapshot.cpu_percent) == (25.0, 90.0, None)
    assert snapshot.interval_seconds is None
    assert snapshot.collection_cpu_seconds is not None and snapshot.collection_cpu_seconds >= 0


def test_the_next_snapshot_takes_its_rates_from_the_stored_counters(fake_clock_collection):
    machine = FakeMachine(processes=[process(5, "daphne", 10.0)])
    services.snapshot_collect(host="h1", reader=machine.read)
    machine.advance(10, cpu={"user": 5.0, "idle": 5.0}, net={"eth0": [1000.0, 0, 0, 0, 0, 0, 0, 0]})
    machine.processes = [process(5, "daphne", 11.0)]
    snapshot = services.snapshot_collect(host="h1", reader=machine.read)
    assert snapshot.interval_seconds == 10
    assert snapshot.cpu_percent == 50.0
    assert snapshot.network_receive_bytes_per_second == 100.0
    assert snapshot.process_cpu_percent == 10.0
    assert snapshot.processes[0]["role"] == "daphne"


def test_each_host_has_its_own_baseline():
    machine = FakeMachine()
    services.snapshot_collect(host="h1", reader=machine.read)
    machine.advance(10, cpu={"user": 5.0, "idle": 5.0})
    assert services.snapshot_collect(host="h2", reader=machine.read).cpu_percent is None


def test_a_queued_run_right_after_the_last_one_is_skipped(settings, fake_clock_collection):
    settings.MONITORING_COLLECT_INTERVAL = 10
    machine = FakeMachine()
    services.snapshot_collect(host="h1", reader=machine.read)
    machine.advance(1)
    assert services.snapshot_collect(host="h1", reader=machine.read) is None
    machine.advance(5)
    assert services.snapshot_collect(host="h1", reader=machine.read) is not None


def test_a_paused_collection_stores_nothing_until_resumed():
    machine = FakeMachine()
    services.collection_set(collecting=False, by="op")
    assert services.snapshot_collect(host="h1", reader=machine.read) is None
    assert not SystemSnapshot.objects.exists()
    services.collection_set(collecting=True, by="op")
    assert services.snapshot_collect(host="h1", reader=machine.read) is not None


def test_every_catalogued_metric_is_a_snapshot_column():
    columns = {f.name for f in SystemSnapshot._meta.get_fields()}
    assert set(SNAPSHOT_METRIC_NAMES) <= columns


def test_a_real_cycle_reads_this_machine_and_the_queue(settings):
    settings.MONITORING_CELERY_QUEUES = ["monitoring-test"]  # not a queue a worker consumes
    queue = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] + "monitoring-test"
    redis_store.client().rpush(queue, "a", "b")
    redis_store.client().rpush(queue + "\x06\x169", "c")  # a priority queue of it
    try:
        first = services.snapshot_collect(host="real", force=True)
        time.sleep(0.2)  # let the CPU counters tick (1/100 s resolution)
        second = services.snapshot_collect(host="real", force=True)
    finally:
        redis_store.client().delete(queue, queue + "\x06\x169")
    assert first.memory_total_bytes > 0 and first.cpu_count >= 1 and first.mounts
    assert first.celery_queue_length == 3
    assert first.websocket_connections is not None
    assert second.cpu_percent is not None and 0 <= second.cpu_percent <= 100


def test_two_workers_running_the_task_at_once_store_one_sample():
    first, second = FakeMachine(), FakeMachine()
    second.advance(0.01)
    assert services.snapshot_collect(host="h1", reader=first.read) is not None
    assert services.snapshot_collect(host="h1", reader=second.read) is None  # the other worker, same moment
    assert SystemSnapshot.objects.count() == 1
