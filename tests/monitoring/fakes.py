"""Fake machine readings for collection tests: a clock and counters the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from monitoring.sampling import Counters, Memory, Mount, ProcessReading, Reading, Swap

GIB = 1024**3


@dataclass
class FakeMachine:
    """A machine whose counters only move when the test says so."""

    at: float = 1_700_000_000.0
    boot_time: float = 1_699_000_000.0
    cpu: dict[str, float] = field(default_factory=lambda: {"user": 100.0, "nice": 0.0, "system": 50.0,
                                                           "idle": 800.0, "iowait": 10.0, "irq": 0.0,
                                                           "softirq": 0.0, "steal": 0.0, "guest": 0.0})
    disk: dict[str, list[float]] = field(default_factory=lambda: {"vda": [1000.0, 2000.0, 10.0, 20.0]})
    net: dict[str, list[float]] = field(default_factory=lambda: {
        "eth0": [5000.0, 3000.0, 50.0, 30.0, 0.0, 0.0, 0.0, 0.0],
        "lo": [999.0, 999.0, 9.0, 9.0, 0.0, 0.0, 0.0, 0.0]})
    swap_io: list[float] = field(default_factory=lambda: [0.0, 0.0])
    processes: list[ProcessReading] = field(default_factory=list)

    def advance(self, seconds: float, *, cpu: dict[str, float] | None = None,
                disk: dict[str, list[float]] | None = None, net: dict[str, list[float]] | None = None) -> None:
        self.at += seconds
        for mode, delta in (cpu or {}).items():
            self.cpu[mode] += delta
        for device, deltas in (disk or {}).items():
            self.disk[device] = [v + d for v, d in zip(self.disk[device], deltas, strict=True)]
        for nic, deltas in (net or {}).items():
            self.net[nic] = [v + d for v, d in zip(self.net[nic], deltas, strict=True)]

    def read(self) -> Reading:
        counters = Counters(at=self.at, boot_time=self.boot_time, cpu=dict(self.cpu),
                            disk={k: list(v) for k, v in self.disk.items()},
                            net={k: list(v) for k, v in self.net.items()}, swap=list(self.swap_io),
                            processes={p.key: p.cpu_seconds for p in self.processes})
        return Reading(
            counters=counters, cpu_count=4, cpu_frequency_mhz=2400.0, load=(0.5, 0.4, 0.3),
            memory=Memory(total=8 * GIB, available=6 * GIB, used=2 * GIB, cached=1 * GIB, percent=25.0),
            swap=Swap(total=2 * GIB, used=0.0, percent=0.0),
            mounts=[Mount("/", "/dev/vda", "ext4", 100 * GIB, 40 * GIB, 60 * GIB, 40.0),
                    Mount("/data", "/dev/vdb", "ext4", 10 * GIB, 9 * GIB, 1 * GIB, 90.0)],
            data_mount="/data", processes=list(self.processes),
        )


def process(pid: int, role: str, cpu_seconds: float, *, create_time: float = 1_699_500_000.0,
            rss: float = 100e6) -> ProcessReading:
    return ProcessReading(pid=pid, create_time=create_time, role=role, name=role, rss=rss, cpu_seconds=cpu_seconds,
                          threads=4, open_fds=20, connections=3)


def with_cpu(reading: ProcessReading, cpu_seconds: float) -> ProcessReading:
    return replace(reading, cpu_seconds=cpu_seconds)
