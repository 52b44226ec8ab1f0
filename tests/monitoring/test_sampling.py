"""Rates from counter deltas: first sample, CPU from cpu_times, wraps, resets, reboots, processes."""

from __future__ import annotations

import pytest

from monitoring.sampling import WRAP_32, Counters, compute, counter_delta
from tests.monitoring.fakes import FakeMachine, process, with_cpu


def test_a_first_sample_has_gauges_but_no_rates():
    sample = compute(None, FakeMachine().read())
    assert sample.interval is None
    assert sample.values["memory_percent"] == 25.0
    assert sample.values["disk_percent"] == 90.0  # the data directory's mount, not "/"
    assert sample.values["cpu_count"] == 4
    for name in ("cpu_percent", "disk_read_bytes_per_second", "network_receive_bytes_per_second",
                 "swap_in_bytes_per_second"):
        assert sample.values[name] is None, name


def test_cpu_percent_comes_from_cpu_times_deltas():
    machine = FakeMachine()
    first = compute(None, machine.read())
    machine.advance(10, cpu={"user": 6.0, "system": 2.0, "idle": 10.0, "iowait": 2.0, "guest": 5.0})
    sample = compute(first.counters, machine.read())
    assert sample.interval == 10
    # 20 s of CPU time (guest is inside user): busy = user + system = 8 -> 40 %
    assert sample.values["cpu_percent"] == 40.0
    assert sample.values["cpu_user_percent"] == 30.0
    assert sample.values["cpu_system_percent"] == 10.0
    assert sample.values["cpu_iowait_percent"] == 10.0


def test_rates_are_per_second_and_exclude_loopback():
    machine = FakeMachine()
    first = compute(None, machine.read())
    machine.advance(5, disk={"vda": [5000.0, 10000.0, 50.0, 100.0]},
                    net={"eth0": [500.0, 250.0, 5.0, 10.0, 1.0, 0.0, 2.0, 3.0], "lo": [1e6, 1e6, 1e3, 1e3, 0, 0, 0, 0]})
    values = compute(first.counters, machine.read()).values
    assert values["disk_read_bytes_per_second"] == 1000.0
    assert values["disk_write_bytes_per_second"] == 2000.0
    assert values["disk_reads_per_second"] == 10.0
    assert values["network_receive_bytes_per_second"] == 100.0
    assert values["network_transmit_bytes_per_second"] == 50.0
    assert values["network_errors_per_second"] == 0.2
    assert values["network_drops_per_second"] == 1.0


def test_a_32_bit_counter_that_wrapped_still_gives_its_increase():
    assert counter_delta(WRAP_32 - 100, 50) == 150
    machine = FakeMachine()
    machine.net["eth0"][0] = WRAP_32 - 1000.0
    first = compute(None, machine.read())
    machine.net["eth0"][0] = 1000.0  # wrapped past 2**32
    machine.advance(10)
    assert compute(first.counters, machine.read()).values["network_receive_bytes_per_second"] == 200.0


def test_a_counter_that_went_back_is_a_reset_and_gives_no_rate():
    assert counter_delta(5_000_000, 10) is None
    assert counter_delta(2.0**40, 2.0**39) is None
    machine = FakeMachine()
    first = compute(None, machine.read())
    machine.disk["vda"][0] = 0.0  # driver reloaded
    machine.advance(10, disk={"vda": [0, 500.0, 0, 5.0]})
    values = compute(first.counters, machine.read()).values
    assert values["disk_read_bytes_per_second"] is None
    assert values["disk_write_bytes_per_second"] == 50.0  # the other counters still have rates


def test_a_cpu_counter_reset_gives_no_cpu_percent():
    machine = FakeMachine()
    first = compute(None, machine.read())
    machine.cpu["idle"] = 1.0
    machine.advance(10, cpu={"user": 1.0})
    assert compute(first.counters, machine.read()).values["cpu_percent"] is None


def test_a_reboot_makes_the_next_sample_a_first_sample():
    machine = FakeMachine()
    first = compute(None, machine.read())
    machine.boot_time += 3600
    machine.advance(10, cpu={"user": 5.0, "idle": 5.0})
    sample = compute(first.counters, machine.read())
    assert sample.interval is None and sample.values["cpu_percent"] is None


def test_a_clock_that_went_back_gives_no_rates():
    machine = FakeMachine()
    first = compute(None, machine.read())
    machine.advance(-5, cpu={"user": 5.0})
    assert compute(first.counters, machine.read()).values["cpu_percent"] is None


def test_process_cpu_is_measured_per_process_across_samples():
    machine = FakeMachine(processes=[process(10, "daphne", 100.0), process(11, "celery_worker", 50.0)])
    first = compute(None, machine.read())
    assert [p["cpu_percent"] for p in first.processes] == [None, None]
    machine.processes = [with_cpu(machine.processes[0], 102.0), with_cpu(machine.processes[1], 50.5),
                         process(12, "celery_beat", 3.0)]
    machine.advance(10)
    sample = compute(first.counters, machine.read())
    assert [p["cpu_percent"] for p in sample.processes] == [20.0, 5.0, None]  # the new one has no baseline yet
    assert sample.values["process_count"] == 3
    assert sample.values["process_cpu_percent"] == 25.0
    assert sample.values["process_rss_bytes"] == 300e6


def test_a_reused_pid_is_a_new_process():
    machine = FakeMachine(processes=[process(10, "daphne", 100.0, create_time=1.0)])
    first = compute(None, machine.read())
    machine.processes = [process(10, "daphne", 1.0, create_time=2.0)]
    machine.advance(10)
    assert compute(first.counters, machine.read()).processes[0]["cpu_percent"] is None


def test_counters_survive_their_json_round_trip():
    counters = FakeMachine(processes=[process(1, "daphne", 3.0)]).read().counters
    assert Counters.from_json(counters.to_json()) == counters


@pytest.mark.parametrize("payload", [None, {}, {"at": "x"}, {"boot_time": 1}, {"at": 1, "boot_time": 1, "cpu": 5}])
def test_unreadable_stored_counters_mean_a_first_sample(payload):
    assert Counters.from_json(payload) is None
