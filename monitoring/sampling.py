"""From raw readings to a sample: rates from counter deltas (no Django, no psutil).

A `Reading` is what the machine says now: gauges (memory, disk space) and cumulative
counters (CPU seconds per mode, bytes read, packets sent...). Rates need two readings,
so each sample keeps its `Counters`, stored with the snapshot row, and the next
collection (possibly in another worker process) starts from them. Rules:

* first sample (no previous counters), another boot, or a clock that went back:
  rates are None, gauges are reported;
* a counter that went back is a reset: its rate is None for that sample, unless it is a
  32-bit counter that wrapped (the increase is then known);
* CPU percentages come from cpu_times deltas of the whole machine, never from a
  per-process cpu_percent() whose baseline lives in one process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

WRAP_32 = 2**32
# Seconds of difference in boot time that still mean "the same boot" (clock adjustments).
BOOT_TOLERANCE = 2.0

# cpu_times modes that are included in others on Linux (guest is counted in user).
_CPU_EXCLUDED = frozenset({"guest", "guest_nice"})
_CPU_IDLE = frozenset({"idle", "iowait"})
DISK_FIELDS = ("read_bytes", "write_bytes", "read_count", "write_count")
NET_FIELDS = ("bytes_recv", "bytes_sent", "packets_recv", "packets_sent", "errin", "errout", "dropin", "dropout")


def counter_delta(previous: float, current: float) -> float | None:
    """The increase of a monotonic counter between two readings.

    None when it went back (a reset: reboot, driver reload). A counter that went back
    from near 2**32 to a small value wrapped: that increase is returned instead.
    """
    if current >= previous:
        return current - previous
    if previous < WRAP_32 and current < WRAP_32:
        wrapped = current + WRAP_32 - previous
        if wrapped < WRAP_32 // 2:
            return wrapped
    return None


@dataclass
class Counters:
    """The cumulative readings a sample keeps for the next one."""

    at: float
    boot_time: float
    cpu: dict[str, float] = field(default_factory=dict)
    disk: dict[str, list[float]] = field(default_factory=dict)  # device -> DISK_FIELDS
    net: dict[str, list[float]] = field(default_factory=dict)  # interface -> NET_FIELDS
    swap: list[float] = field(default_factory=list)  # [sin, sout] bytes
    processes: dict[str, float] = field(default_factory=dict)  # "pid:create_time" -> CPU seconds

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Counters | None:
        """None for an empty or unreadable payload: the sample is then a first sample."""
        if not data:
            return None
        try:
            return cls(
                at=float(data["at"]),
                boot_time=float(data["boot_time"]),
                cpu={str(k): float(v) for k, v in data.get("cpu", {}).items()},
                disk={str(k): [float(x) for x in v] for k, v in data.get("disk", {}).items()},
                net={str(k): [float(x) for x in v] for k, v in data.get("net", {}).items()},
                swap=[float(x) for x in data.get("swap", [])],
                processes={str(k): float(v) for k, v in data.get("processes", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


@dataclass(frozen=True)
class Memory:
    total: float
    available: float
    used: float
    cached: float | None
    percent: float


@dataclass(frozen=True)
class Swap:
    total: float
    used: float
    percent: float


@dataclass(frozen=True)
class Mount:
    mountpoint: str
    device: str
    fstype: str
    total: float
    used: float
    free: float
    percent: float


@dataclass(frozen=True)
class ProcessReading:
    pid: int
    create_time: float
    role: str
    name: str
    rss: float
    cpu_seconds: float
    threads: int
    open_fds: int | None
    connections: int | None

    @property
    def key(self) -> str:
        # A pid is reused after a process exits; with its start time it names one process.
        return f"{self.pid}:{self.create_time:.2f}"


@dataclass(frozen=True)
class Reading:
    counters: Counters
    cpu_count: int
    cpu_frequency_mhz: float | None
    load: tuple[float, float, float] | None
    memory: Memory
    swap: Swap
    mounts: Sequence[Mount]
    data_mount: str | None  # mountpoint holding the data directory
    processes: Sequence[ProcessReading]


@dataclass
class Sample:
    at: float
    interval: float | None  # seconds since the previous reading; None for a first sample
    values: dict[str, float | None]
    mounts: list[dict[str, Any]]
    interfaces: list[dict[str, Any]]
    processes: list[dict[str, Any]]
    counters: Counters


def _interval(previous: Counters | None, current: Counters) -> float | None:
    if previous is None or abs(previous.boot_time - current.boot_time) > BOOT_TOLERANCE:
        return None
    interval = current.at - previous.at
    return interval if interval > 0 else None


def _cpu(previous: Counters | None, current: Counters) -> dict[str, float | None]:
    keys = ("cpu_percent", "cpu_user_percent", "cpu_system_percent", "cpu_iowait_percent", "cpu_steal_percent")
    unknown: dict[str, float | None] = dict.fromkeys(keys)
    if previous is None:
        return unknown
    deltas: dict[str, float] = {}
    for mode, value in current.cpu.items():
        if mode in _CPU_EXCLUDED:
            continue
        delta = counter_delta(previous.cpu.get(mode, value), value)
        if delta is None:
            return unknown  # a reset: no honest percentage for this interval
        deltas[mode] = delta
    total = sum(deltas.values())
    if total <= 0:
        return unknown

    def pct(*modes: str) -> float:
        return round(100.0 * sum(deltas.get(m, 0.0) for m in modes) / total, 3)

    busy = total - sum(deltas.get(m, 0.0) for m in _CPU_IDLE)
    return {
        "cpu_percent": round(100.0 * busy / total, 3),
        "cpu_user_percent": pct("user", "nice"),
        "cpu_system_percent": pct("system", "irq", "softirq"),
        "cpu_iowait_percent": pct("iowait"),
        "cpu_steal_percent": pct("steal"),
    }


def _rates(previous: Sequence[float] | None, current: Sequence[float], interval: float | None) -> list[float | None]:
    """Per-second rate of each counter; None where unknown."""
    if previous is None or interval is None or len(previous) != len(current):
        return [None] * len(current)
    rates: list[float | None] = []
    for before, now in zip(previous, current, strict=True):
        delta = counter_delta(before, now)
        rates.append(None if delta is None else delta / interval)
    return rates


def _sum_known(values: Sequence[float | None]) -> float | None:
    """Sum of the known values; None when none is known."""
    known = [v for v in values if v is not None]
    return round(sum(known), 3) if known else None


def _per_device(
    previous: Mapping[str, list[float]] | None, current: Mapping[str, list[float]], interval: float | None
) -> dict[str, list[float | None]]:
    return {name: _rates(previous.get(name) if previous else None, values, interval)
            for name, values in current.items()}


def _disk_values(rates: Mapping[str, list[float | None]]) -> dict[str, float | None]:
    columns = ("disk_read_bytes_per_second", "disk_write_bytes_per_second", "disk_reads_per_second",
               "disk_writes_per_second")
    return {column: _sum_known([r[i] for r in rates.values()]) for i, column in enumerate(columns)}


def _network_values(rates: Mapping[str, list[float | None]]) -> dict[str, float | None]:
    external = [r for name, r in rates.items() if name != "lo"]

    def total(*indexes: int) -> float | None:
        return _sum_known([r[i] for r in external for i in indexes])

    return {
        "network_receive_bytes_per_second": total(0),
        "network_transmit_bytes_per_second": total(1),
        "network_receive_packets_per_second": total(2),
        "network_transmit_packets_per_second": total(3),
        "network_errors_per_second": total(4, 5),
        "network_drops_per_second": total(6, 7),
    }


def _interfaces(rates: Mapping[str, list[float | None]]) -> list[dict[str, Any]]:
    names = ("receive_bytes_per_second", "transmit_bytes_per_second", "receive_packets_per_second",
             "transmit_packets_per_second", "receive_errors_per_second", "transmit_errors_per_second",
             "receive_drops_per_second", "transmit_drops_per_second")
    return [{"name": nic, **{n: (None if v is None else round(v, 3)) for n, v in zip(names, r, strict=True)}}
            for nic, r in sorted(rates.items())]


def _processes(
    previous: Counters | None, readings: Sequence[ProcessReading], interval: float | None
) -> list[dict[str, Any]]:
    result = []
    for proc in readings:
        cpu_percent = None
        before = previous.processes.get(proc.key) if previous is not None else None
        if before is not None and interval is not None:
            delta = counter_delta(before, proc.cpu_seconds)
            cpu_percent = None if delta is None else round(100.0 * delta / interval, 3)
        result.append({
            "pid": proc.pid, "role": proc.role, "name": proc.name, "rss_bytes": proc.rss,
            "cpu_percent": cpu_percent, "cpu_seconds": round(proc.cpu_seconds, 3), "threads": proc.threads,
            "open_fds": proc.open_fds, "connections": proc.connections, "started_at": proc.create_time,
        })
    return result


def _process_values(processes: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    return {
        "process_count": float(len(processes)),
        "process_rss_bytes": _sum_known([p["rss_bytes"] for p in processes]),
        "process_cpu_percent": _sum_known([p["cpu_percent"] for p in processes]),
        "process_threads": _sum_known([p["threads"] for p in processes]),
        "process_open_fds": _sum_known([p["open_fds"] for p in processes]),
        "process_connections": _sum_known([p["connections"] for p in processes]),
    }


def _data_mount(reading: Reading) -> Mount | None:
    return next((m for m in reading.mounts if m.mountpoint == reading.data_mount), None)


def _gauges(reading: Reading) -> dict[str, float | None]:
    memory, swap, data = reading.memory, reading.swap, _data_mount(reading)
    load = reading.load
    return {
        "cpu_count": float(reading.cpu_count),
        "cpu_frequency_mhz": reading.cpu_frequency_mhz,
        "load_1": load[0] if load else None,
        "load_5": load[1] if load else None,
        "load_15": load[2] if load else None,
        "memory_total_bytes": memory.total,
        "memory_available_bytes": memory.available,
        "memory_used_bytes": memory.used,
        "memory_cached_bytes": memory.cached,
        "memory_percent": memory.percent,
        "swap_total_bytes": swap.total,
        "swap_used_bytes": swap.used,
        "swap_percent": swap.percent,
        "disk_percent": data.percent if data else None,
        "disk_free_bytes": data.free if data else None,
    }


def compute(previous: Counters | None, reading: Reading) -> Sample:
    """The sample of `reading`, with rates over the interval since `previous`."""
    current = reading.counters
    interval = _interval(previous, current)
    base = previous if interval is not None else None
    disk_rates = _per_device(base.disk if base else None, current.disk, interval)
    net_rates = _per_device(base.net if base else None, current.net, interval)
    swap_in, swap_out = (_rates(base.swap if base else None, current.swap, interval) + [None, None])[:2]
    processes = _processes(base, reading.processes, interval)
    values: dict[str, float | None] = {
        **_cpu(base, current),
        **_gauges(reading),
        "swap_in_bytes_per_second": swap_in,
        "swap_out_bytes_per_second": swap_out,
        **_disk_values(disk_rates),
        **_network_values(net_rates),
        **_process_values(processes),
    }
    return Sample(
        at=current.at,
        interval=interval,
        values=values,
        mounts=[asdict(m) for m in reading.mounts],
        interfaces=_interfaces(net_rates),
        processes=processes,
        counters=current,
    )
