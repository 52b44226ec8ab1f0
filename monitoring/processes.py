"""This deployment's own processes: which they are, and what they use (psutil, no Django).

Found by their command line (daphne, Celery worker and beat, the runstack supervisor,
runserver) and kept to the ones started from this project's directory, so that other
checkouts or deployments on the same machine are not counted; the embedded Redis is
found by its pid file. Discovery scans every process, so it is cached for a while;
the found processes are then read one by one (psutil's oneshot) at every collection.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import psutil

from monitoring.sampling import ProcessReading

ROLES = ("daphne", "celery_worker", "celery_beat", "redis", "runstack", "web")


def classify(cmdline: Sequence[str]) -> str | None:
    """The role of a process from its command line, or None when it is not one of ours."""
    if not cmdline:
        return None
    names = [os.path.basename(arg) for arg in cmdline]
    if "daphne" in names or any(n.startswith("daphne") for n in names[:3]):
        return "daphne"
    if "celery" in names or any(n.startswith("celery") for n in names[:3]):
        if "beat" in cmdline:
            return "celery_beat"
        if "worker" in cmdline:
            return "celery_worker"
        return None
    if "manage.py" in names:
        if "runstack" in cmdline:
            return "runstack"
        if "runserver" in cmdline:
            return "web"
    return None


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


class ProcessFinder:
    """Finds and reads the deployment's processes.

    `root`: the project directory (processes must run from it). `pid_files`: role -> file
    holding a pid (the embedded Redis). `rediscover_seconds`: how long a discovery is kept.
    """

    def __init__(
        self, *, root: str, pid_files: dict[str, Path] | None = None, rediscover_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = os.path.realpath(root)
        self.pid_files = pid_files or {}
        self.rediscover_seconds = rediscover_seconds
        self.clock = clock
        self._found: dict[int, tuple[str, psutil.Process]] = {}
        self._found_at: float | None = None

    def _ours(self, proc: psutil.Process) -> bool:
        try:
            return bool(os.path.realpath(proc.cwd()) == self.root)
        except (psutil.Error, OSError):
            return False

    def discover(self) -> dict[int, tuple[str, psutil.Process]]:
        found: dict[int, tuple[str, psutil.Process]] = {}
        for proc in psutil.process_iter(["cmdline"]):
            role = classify(proc.info.get("cmdline") or [])
            if role is not None and self._ours(proc):
                found[proc.pid] = (role, proc)
        for role, path in self.pid_files.items():
            pid = _read_pid(path)
            if pid is not None and pid not in found:
                try:
                    found[pid] = (role, psutil.Process(pid))
                except psutil.Error:
                    pass
        return found

    def processes(self) -> list[tuple[str, psutil.Process]]:
        now = self.clock()
        if self._found_at is None or now - self._found_at >= self.rediscover_seconds:
            self._found = self.discover()
            self._found_at = now
        return list(self._found.values())

    def read(self) -> list[ProcessReading]:
        readings = []
        gone = False
        for role, proc in self.processes():
            reading = read_process(role, proc)
            if reading is None:
                gone = True
            else:
                readings.append(reading)
        if gone:
            self._found_at = None  # a process exited: look again next time
        return readings


def _descriptors(proc: psutil.Process) -> tuple[int | None, int | None]:
    """(open file descriptors, sockets among them).

    On Linux from /proc/<pid>/fd: a readlink per descriptor. psutil's net_connections()
    parses the machine's whole TCP/UDP tables for each process instead (~8 ms per process
    on a busy host: 50x the rest of a collection), so it is only the fallback elsewhere.
    """
    fd_dir = f"/proc/{proc.pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except FileNotFoundError:
        return _descriptors_by_psutil(proc)
    except OSError:
        return None, None  # not ours to read
    sockets = 0
    for name in names:
        try:
            sockets += os.readlink(f"{fd_dir}/{name}").startswith("socket:")
        except OSError:
            continue  # closed meanwhile
    return len(names), sockets


def _descriptors_by_psutil(proc: psutil.Process) -> tuple[int | None, int | None]:
    def count(call: Callable[[], Iterable[object]]) -> int | None:
        try:
            return len(list(call()))
        except (psutil.AccessDenied, NotImplementedError, AttributeError):
            return None

    fds = proc.num_fds() if hasattr(proc, "num_fds") else None
    return fds, count(lambda: proc.net_connections(kind="all"))


def read_process(role: str, proc: psutil.Process) -> ProcessReading | None:
    """One process's figures; None when it is gone."""
    try:
        with proc.oneshot():
            times = proc.cpu_times()
            fds, sockets = _descriptors(proc)
            return ProcessReading(
                pid=proc.pid,
                create_time=proc.create_time(),
                role=role,
                name=proc.name(),
                rss=float(proc.memory_info().rss),
                cpu_seconds=times.user + times.system,
                threads=proc.num_threads(),
                open_fds=fds,
                connections=sockets,
            )
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        return None
