"""Crash recovery: runs whose process died are failed and their temporary data removed."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from backups.engine.destinations import DestinationError
from backups.models import BackupRun
from backups.services.runs import announce, discard_partial
from backups.storage import destination_for
from tecnocursos.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


def _dead(run: BackupRun, stale_before: datetime) -> bool:
    """On this host the pid says it (a long pg_dump is alive however quiet); elsewhere the
    heartbeat does."""
    host, _, pid = run.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return run.heartbeat_at is not None and run.heartbeat_at < stale_before


def backup_fail_stale() -> list[int]:
    """Fail runs whose process died (same host, pid gone), whose heartbeat stopped, or that
    waited in the queue too long; remove their temporary data. Runs when workers start and
    periodically."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.BACKUP_STALE_SECONDS)
    queued_before = now - timedelta(seconds=settings.BACKUP_QUEUED_TIMEOUT_SECONDS)
    failed: list[int] = []
    for run in BackupRun.objects.filter(status__in=BackupRun.ACTIVE).select_related("config"):
        if run.status == BackupRun.Status.RUNNING and _dead(run, stale_before):
            reason = f"The process running it ({run.worker or 'unknown'}) died before it finished."
        elif run.status == BackupRun.Status.QUEUED and run.created_at < queued_before:
            reason = "No worker picked it up in time."
        else:
            continue
        updated = BackupRun.objects.filter(id=run.id, status=run.status, worker=run.worker).update(
            status=BackupRun.Status.FAILED, finished_at=now, error=reason, parent=None)
        if updated:
            run.refresh_from_db()
            discard_partial(run)
            failed.append(run.id)
            announce(run)
    _sweep_orphan_temps()
    return failed


def _sweep_orphan_temps() -> None:
    """Temporary files / uploads no running run owns, older than the stale limit."""
    owned = set(BackupRun.objects.filter(status=BackupRun.Status.RUNNING).values_list("temp_ref", flat=True))
    kinds = ["local"] + (["s3"] if settings.BACKUP_S3_BUCKET else [])
    for kind in kinds:
        try:
            destination = destination_for(kind)
            for ref in list(destination.stale_temps(settings.BACKUP_STALE_SECONDS)):
                if ref not in owned:
                    destination.discard_temp(ref)
        except (ApplicationError, DestinationError, OSError):
            logger.warning("temporary data sweep of %s failed", kind, exc_info=True)
