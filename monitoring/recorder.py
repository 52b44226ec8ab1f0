"""The process's recorder: one aggregator, flushed to Redis by a background thread.

Web processes (daphne, or a WSGI server), Celery workers and anything else that counts
record into `recorder()`; a daemon thread flushes every MONITORING_FLUSH_SECONDS (and
at exit), so a request never waits on Redis; it also publishes how full this process's
WebSocket channel queues are (channel_queues.py). The same thread re-reads the pause switch:
a pause made in any process reaches every process within one flush interval, and what
was counted meanwhile is dropped. When Redis is down, the batch is kept (bounded: one
hour of minutes) and added at the next successful flush.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from functools import cache

from django.conf import settings

from monitoring import channel_queues, redis_store
from monitoring.aggregator import Aggregator

logger = logging.getLogger(__name__)

KEEP_UNFLUSHED_SECONDS = 3600


@cache
def server_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}".replace("|", "-")


class Recorder:
    def __init__(self) -> None:
        self.aggregator = Aggregator()
        self.collecting = True  # the pause switch as last read; every hot path checks it
        self.background = True  # tests turn the thread's own flushes off to flush when they choose
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._wake = threading.Event()
        self._flush_lock = threading.Lock()

    def ensure_flusher(self) -> None:
        """Start the flush thread once per process (after_fork clears it in a child)."""
        if self._thread is not None:
            return
        with self._flush_lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="monitoring-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        interval = float(settings.MONITORING_FLUSH_SECONDS)
        while not self._wake.wait(interval):
            if self.background:
                self.flush()

    def refresh_switch(self) -> bool:
        try:
            self.collecting = redis_store.collecting()
        except Exception:  # Redis down: keep the last known state
            logger.debug("monitoring: pause switch unreadable", exc_info=True)
        return self.collecting

    def flush(self) -> bool:
        """Send what was counted since the last flush; False when Redis refused it."""
        with self._flush_lock:
            self.refresh_switch()
            self._publish_channel_queues()
            batch = self.aggregator.drain()
            if not batch or not self.collecting:
                return True
            try:
                redis_store.flush(batch, server=server_id())
            except Exception:
                logger.warning("monitoring: flush to Redis failed; keeping the counts", exc_info=True)
                self.aggregator.restore(batch, max_age_seconds=KEEP_UNFLUSHED_SECONDS)
                return False
            return True

    def _publish_channel_queues(self) -> None:
        if not self.collecting:
            return
        try:
            channel_queues.publish(server_id())
        except Exception:  # Redis down: the next flush tries again
            logger.debug("monitoring: channel queue summary not published", exc_info=True)

    def after_fork(self) -> None:
        # The child inherits the parent's counts (already the parent's to flush) and no thread.
        self.aggregator.discard()
        self._thread = None
        self._flush_lock = threading.Lock()


_recorder = Recorder()


def recorder() -> Recorder:
    return _recorder


def _flush_at_exit() -> None:
    try:
        _recorder.flush()
    except Exception:  # interpreter shutdown: nothing more to do
        pass


atexit.register(_flush_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_recorder.after_fork)
