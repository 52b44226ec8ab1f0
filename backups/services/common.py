"""Shared by the backup services: progress reporting, notifications, scratch space."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from backups.models import BackupRun
from realtime.services import notification_send, progress_report
from tecnocursos.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


Progress = Callable[[int, int], None]


HEARTBEAT_SECONDS = 5.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def user_pk(user: AbstractBaseUser | AnonymousUser | None) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


class Reporter:
    """One `progress` event per percent to the requester (and the command's bar, if any)."""

    def __init__(self, run: BackupRun, verb: str, extra: Progress | None = None):
        self.run = run
        self.verb = verb
        self.extra = extra
        self.last_pct = -1

    def event(self, pct: int, status: str, message: str) -> None:
        self.last_pct = pct
        if self.run.requested_by_id:
            progress_report(user_id=self.run.requested_by_id, task_id=str(self.run.task_id), progress=pct,
                            status=status, message=message)

    def __call__(self, done: int, total: int) -> None:
        if self.extra is not None:
            self.extra(done, total)
        pct = min(99, done * 100 // total) if total else 0
        if pct != self.last_pct:
            self.event(pct, "running", f"{self.verb} {self.run.config.name}: {done} of {total} bytes")


def notify(user: Any, title: str, message: str, level: str) -> None:
    try:
        notification_send(user=user, title=title, message=message, level=level)
    except ApplicationError:
        notification_send(user=user, title=title, message=message)


def alert_staff(title: str, message: str) -> None:
    for user in get_user_model().objects.filter(is_staff=True, is_active=True):
        notify(user, title, message[:2000], "error")


def scratch_root() -> Path:
    root = Path(settings.BACKUP_ROOT)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    scratch = root / ".scratch"
    scratch.mkdir(exist_ok=True, mode=0o700)
    return scratch


class Heartbeat:
    """Refreshes the run's heartbeat from a thread while the run works, whatever it is doing
    (a pg_dump or a hook can be silent for minutes); other hosts' sweeps read it."""

    def __init__(self, run_id: int, every: float | None = None):
        self.run_id = run_id
        self.every = every if every is not None else HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"backup-heartbeat-{run_id}", daemon=True)

    def _beat(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(self.every):
                BackupRun.objects.filter(id=self.run_id, status=BackupRun.Status.RUNNING).update(
                    heartbeat_at=timezone.now())
        except Exception:  # a missed beat only risks a slow sweep; never break the run
            logger.warning("backup heartbeat of run %s failed", self.run_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Heartbeat:
        from django.db import connection

        # Inside the caller's transaction the row is locked and its state invisible to
        # another connection: beating from a thread would only wait on that lock.
        if not connection.in_atomic_block:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
