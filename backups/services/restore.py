"""Restores: a run's tree into a new directory through a staging directory; the database."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from backups import selectors
from backups.engine.restore import RestoreReport, restore_tree
from backups.models import BackupManifest, BackupRun
from backups.services.archives import open_members, run_chain
from backups.services.common import Progress, Reporter, notify, scratch_root, user_pk
from backups.services.database import database_entry, load_database
from tecnocursos.core.exceptions import ApplicationError
from tecnocursos.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)


@dataclass
class RestoreOutcome:
    run: BackupRun
    target: Path | None
    report: RestoreReport
    database_loaded: bool = False


def _check_target(target: Path) -> None:
    if not target.is_absolute():
        raise ApplicationError(f"The restore target must be an absolute path, not {str(target)!r}.")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ApplicationError(f"The restore target {target} exists and is not a directory.")
    if target.exists() and any(target.iterdir()):
        raise ApplicationError(f"The restore target {target} is not empty; restore into a new directory.")


def _move_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    for child in staging.iterdir():
        os.rename(child, target / child.name)
    staging.rmdir()


def backup_restore(*, run: BackupRun, target: Path | None, database: bool = False,
                   progress: Progress | None = None) -> RestoreOutcome:
    """Rebuild the run's tree (following its chain) into `target`, a new or empty directory,
    through a staging directory beside it; with `database`, also load the database dump."""
    if run.status != BackupRun.Status.COMPLETED:
        raise ApplicationError(f"Run {run.id} is {run.status}; only completed runs can be restored.",
                               status_code=409)
    if target is None and not database:
        raise ApplicationError("Give a target directory, or ask for the database.")
    manifest = selectors.manifest_of(run=run)
    dump_path = database_entry(manifest) if database else ""
    if target is not None:
        _check_target(target)
    runs = run_chain(run, manifest)
    parent_dir = target.parent if target is not None else scratch_root()
    parent_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".restore-{run.id}-", dir=parent_dir))
    reporter = Reporter(run, "Restoring", progress)
    try:
        report = restore_tree(manifest, staging, lambda run_id: open_members(runs[run_id]),
                              prefix="database" if target is None else "", progress=reporter)
        if database:
            record = _record(run)
            load_database(staging.joinpath(*dump_path.split("/")), manifest.db_engine)
            _reinstate(record)
        if target is not None:
            _move_into_place(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    reporter.event(100, "done", f"Run {run.id} restored" + (f" into {target}" if target else ""))
    return RestoreOutcome(run=run, target=target, report=report, database_loaded=database)


_RECORD_FIELDS = ("kind", "parent_id", "finished_at", "archive_format", "encrypted", "key_id", "destination",
                  "archive_name", "db_engine", "bytes_in", "bytes_stored", "bytes_out", "file_count",
                  "files_stored", "files_deleted", "checksum", "error")


def _record(run: BackupRun) -> dict[str, Any]:
    stored = BackupManifest.objects.get(run_id=run.id)
    return {"id": run.id, "fields": {f: getattr(run, f) for f in _RECORD_FIELDS},
            "manifest": bytes(stored.data), "entries": stored.entries}


def _reinstate(record: dict[str, Any]) -> None:
    """The dump was taken while its own run was running: after loading it, that run is
    recorded as what it became (completed, with its manifest), so it can be restored again
    and is not failed as stale."""
    with transaction.atomic():
        BackupRun.objects.filter(id=record["id"]).update(status=BackupRun.Status.COMPLETED, temp_ref="",
                                                         **record["fields"])
        if BackupRun.objects.filter(id=record["id"]).exists():
            BackupManifest.objects.update_or_create(
                run_id=record["id"], defaults={"data": record["manifest"], "entries": record["entries"]})


def backup_restore_request(*, run: BackupRun, user: AbstractBaseUser | AnonymousUser | None) -> Path:
    """The admin's restore: into a new directory under BACKUP_RESTORE_ROOT, in the background."""
    if run.status != BackupRun.Status.COMPLETED:
        raise ApplicationError(f"Run {run.id} is {run.status}; only completed runs can be restored.")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    target = Path(settings.BACKUP_RESTORE_ROOT) / f"run-{run.id}-{stamp}-{secrets.token_hex(2)}"
    user_id = user_pk(user)
    with transaction.atomic():
        outbox_enqueue("backups.tasks.restore_backup", run.id, str(target), user_id)
    return target


def backup_restore_to(*, run_id: int, target: str, user_id: int | None) -> None:
    """Task body of the admin's restore: notify the operator of the outcome."""
    run = BackupRun.objects.select_related("config").get(id=run_id)
    user = get_user_model().objects.filter(id=user_id).first() if user_id else None
    try:
        outcome = backup_restore(run=run, target=Path(target))
        title, level = f"Run {run.id} restored", "success"
        message = f"{outcome.report.files} files restored into {target}."
    except Exception as exc:
        logger.exception("restore of run %s failed", run_id)
        title, level, message = f"Restore of run {run.id} failed", "error", f"{type(exc).__name__}: {exc}"
    if user is not None:
        notify(user, title, message, level)
