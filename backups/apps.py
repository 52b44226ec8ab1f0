from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = "Backups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_ready

        worker_ready.connect(_fail_stale_runs, weak=False, dispatch_uid="backups-fail-stale")


def _fail_stale_runs(**kwargs: Any) -> None:
    # A worker that starts may be the one that died mid-backup: runs of dead processes are
    # failed and their temporary data removed before new work is taken.
    from backups.services import backup_fail_stale

    try:
        failed = backup_fail_stale()
        if failed:
            logger.warning("backups: runs %s were left running by a dead process; marked failed", failed)
    except Exception:
        logger.exception("backups: the stale-run sweep failed at worker start")
