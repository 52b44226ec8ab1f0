"""Celery task metrics (runs per task name and state, runtimes) and the worker heartbeat.

Signal receivers, connected in MonitoringConfig.ready(). A run is timed from
task_prerun to task_postrun in the process that executes it, and added to that
process's recorder (flushed to Redis like request counts). The heartbeat is a daemon
thread in the worker's main process; the health check and /metrics read it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings

from monitoring import redis_store
from monitoring.recorder import recorder

logger = logging.getLogger(__name__)

_started: dict[str, float] = {}
_MAX_IN_FLIGHT = 10_000  # ids whose postrun never came (killed by a time limit) must not pile up


def on_prerun(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    if task_id is not None and recorder().collecting:
        if len(_started) >= _MAX_IN_FLIGHT:
            _started.clear()
        _started[task_id] = time.perf_counter()


def on_postrun(sender: Any = None, task_id: str | None = None, state: str | None = None, **kwargs: Any) -> None:
    started = _started.pop(task_id, None) if task_id is not None else None
    rec = recorder()
    if not rec.collecting or sender is None:
        return
    seconds = None if started is None else time.perf_counter() - started
    rec.aggregator.record_task(task=str(getattr(sender, "name", sender)), state=(state or "unknown").lower(),
                               seconds=seconds)
    rec.ensure_flusher()


class Heartbeat:
    """Writes `hostname -> now` to Redis every MONITORING_WORKER_HEARTBEAT_SECONDS."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="monitoring-heartbeat", daemon=True)

    def _run(self) -> None:
        interval = float(settings.MONITORING_WORKER_HEARTBEAT_SECONDS)
        while True:
            try:
                redis_store.worker_heartbeat(self.hostname)
            except Exception:
                logger.warning("monitoring: worker heartbeat failed", exc_info=True)
            if self.stop.wait(interval):
                return


_heartbeats: dict[str, Heartbeat] = {}


def on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    hostname = str(getattr(sender, "hostname", None) or "worker")
    if hostname in _heartbeats:
        return
    beat = _heartbeats[hostname] = Heartbeat(hostname)
    beat.thread.start()


def on_worker_shutdown(sender: Any = None, **kwargs: Any) -> None:
    for hostname, beat in list(_heartbeats.items()):
        beat.stop.set()
        try:
            redis_store.worker_heartbeat(hostname, gone=True)
        except Exception:
            logger.warning("monitoring: could not clear the worker heartbeat", exc_info=True)
        del _heartbeats[hostname]
