"""Readings of the machine through psutil (no Django): one `Reading` per call.

Counters are read raw (`nowrap=False`): psutil's own wrap correction lives in one
process, and successive collections may run in different worker processes, so wraps
are handled from the stored counters instead (sampling.counter_delta).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

import psutil

from monitoring.processes import ProcessFinder
from monitoring.sampling import DISK_FIELDS, NET_FIELDS, Counters, Memory, Mount, Reading, Swap

# node_exporter's default: whole disks only, no partitions, RAM disks, loops or floppies.
_IGNORED_DISKS = re.compile(r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p|mmcblk\d+p)\d+$")
_IGNORED_FSTYPES = frozenset({"squashfs", "tmpfs", "devtmpfs", "overlay", "iso9660", "nsfs", "autofs"})
MAX_MOUNTS = 32
MAX_INTERFACES = 32


def _mounts(data_path: str) -> tuple[list[Mount], str | None]:
    mounts: list[Mount] = []
    seen: set[str] = set()
    for part in psutil.disk_partitions(all=False):
        if part.fstype in _IGNORED_FSTYPES or part.mountpoint in seen or part.device.startswith("/dev/loop"):
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue  # unmounted meanwhile, or not ours to read
        seen.add(part.mountpoint)
        mounts.append(Mount(part.mountpoint, part.device, part.fstype, float(usage.total), float(usage.used),
                            float(usage.free), float(usage.percent)))
        if len(mounts) >= MAX_MOUNTS:
            break
    return mounts, _mount_of(data_path, [m.mountpoint for m in mounts])


def _mount_of(path: str, mountpoints: list[str]) -> str | None:
    """The longest mountpoint containing `path`."""
    real = os.path.realpath(path)
    best = None
    for mountpoint in mountpoints:
        prefix = mountpoint.rstrip("/") + "/"
        if (real == mountpoint or real.startswith(prefix) or mountpoint == "/") and (
            best is None or len(mountpoint) > len(best)
        ):
            best = mountpoint
    return best


def _with_data_dir(data_path: str, mounts: list[Mount]) -> list[Mount]:
    """Containers often hide their root filesystem from disk_partitions: add the data dir's."""
    try:
        usage = psutil.disk_usage(data_path)
    except OSError:
        return mounts
    return [*mounts, Mount(data_path, "", "", float(usage.total), float(usage.used), float(usage.free),
                           float(usage.percent))]


def _disk_counters() -> dict[str, list[float]]:
    counters = psutil.disk_io_counters(perdisk=True, nowrap=False) or {}
    return {name: [float(getattr(c, f)) for f in DISK_FIELDS] for name, c in counters.items()
            if not _IGNORED_DISKS.match(name)}


def _net_counters() -> dict[str, list[float]]:
    counters = psutil.net_io_counters(pernic=True, nowrap=False) or {}
    names = sorted(counters, key=lambda n: (n.startswith(("veth", "docker", "br-")), n))[:MAX_INTERFACES]
    return {name: [float(getattr(counters[name], f)) for f in NET_FIELDS] for name in names}


def _memory() -> Memory:
    vm = psutil.virtual_memory()
    cached = getattr(vm, "cached", None)
    return Memory(float(vm.total), float(vm.available), float(vm.used),
                  None if cached is None else float(cached), float(vm.percent))


def _load() -> tuple[float, float, float] | None:
    try:
        one, five, fifteen = os.getloadavg()
    except (OSError, AttributeError):
        return None
    return (round(one, 3), round(five, 3), round(fifteen, 3))


def _frequency() -> float | None:
    try:
        freq = psutil.cpu_freq()
    except (OSError, NotImplementedError, FileNotFoundError):
        return None
    return round(float(freq.current), 1) if freq and freq.current else None


def read(*, data_path: str, finder: ProcessFinder | None = None, clock: Callable[[], float] = time.time) -> Reading:
    processes = finder.read() if finder is not None else []
    swap = psutil.swap_memory()
    mounts, data_mount = _mounts(data_path)
    if data_mount is None:
        mounts = _with_data_dir(data_path, mounts)
        data_mount = data_path if mounts and mounts[-1].mountpoint == data_path else None
    counters = Counters(
        at=clock(),
        boot_time=float(psutil.boot_time()),
        cpu={mode: float(value) for mode, value in psutil.cpu_times()._asdict().items()},
        disk=_disk_counters(),
        net=_net_counters(),
        swap=[float(swap.sin), float(swap.sout)],
        processes={p.key: p.cpu_seconds for p in processes},
    )
    return Reading(
        counters=counters,
        cpu_count=psutil.cpu_count() or 1,
        cpu_frequency_mhz=_frequency(),
        load=_load(),
        memory=_memory(),
        swap=Swap(float(swap.total), float(swap.used), float(swap.percent)),
        mounts=mounts,
        data_mount=data_mount,
        processes=processes,
    )
