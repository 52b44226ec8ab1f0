"""Writes on backups: request, run, verify, restore, prune, rotate keys, recover from crashes.

    runs        requesting, claiming and performing runs; configuration schedules
    recovery    failing runs whose process died, sweeping their temporary data
    verify      checking every archive a run needs
    restore     rebuilding a run's tree; loading its database
    retention   applying the restic-style policy
    rotation    new keys, re-encrypting archives
    database    the live database's engine, dumps and loads
    archives    opening stored archives; common: progress, notifications, scratch space
"""

from backups.services.database import current_db_engine
from backups.services.recovery import backup_fail_stale
from backups.services.restore import RestoreOutcome, backup_restore, backup_restore_request, backup_restore_to
from backups.services.retention import PruneOutcome, backup_prune
from backups.services.rotation import key_rotate, run_reencrypt
from backups.services.runs import (
    backup_execute,
    backup_request,
    backup_run_now,
    backup_scheduled,
    config_sync_schedule,
)
from backups.services.verify import VerifyOutcome, backup_verify, backup_verify_latest, backup_verify_request

__all__ = [
    "PruneOutcome", "RestoreOutcome", "VerifyOutcome", "backup_execute", "backup_fail_stale", "backup_prune",
    "backup_request", "backup_restore", "backup_restore_request", "backup_restore_to", "backup_run_now",
    "backup_scheduled", "backup_verify", "backup_verify_latest", "backup_verify_request", "config_sync_schedule",
    "current_db_engine", "key_rotate", "run_reencrypt",
]
