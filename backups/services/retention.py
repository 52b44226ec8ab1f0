"""Retention: restic-style forget applied to runs, chains respected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from backups.engine.destinations import DestinationError
from backups.engine.retention import Decision, Snapshot, forget
from backups.models import BackupConfig, BackupRun
from backups.storage import destination_for
from tecnocursos.core.exceptions import ApplicationError


@dataclass
class PruneOutcome:
    config: BackupConfig
    decision: Decision
    removed: list[BackupRun] = field(default_factory=list)
    kept: list[BackupRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _prune_decision(config: BackupConfig) -> tuple[Decision, dict[int, BackupRun]]:
    runs = {r.id: r for r in BackupRun.objects.filter(config=config, status=BackupRun.Status.COMPLETED)}
    snapshots = [Snapshot(r.id, r.finished_at or r.created_at, r.parent_id) for r in runs.values()]
    decision = forget(snapshots, config.retention(), tz=timezone.get_current_timezone())
    # Parents of runs in progress stay too, whatever the policy says.
    active = BackupRun.objects.filter(config=config, status__in=BackupRun.ACTIVE, parent__isnull=False)
    for first in active.values_list("parent_id", flat=True):
        parent_id: int | None = first
        while parent_id is not None and parent_id in runs:
            decision.keep.setdefault(parent_id, []).append("needed by a run in progress")
            parent_id = runs[parent_id].parent_id
    decision.remove = [i for i in decision.remove if i not in decision.keep]
    return decision, runs


def backup_prune(*, config: BackupConfig | None = None, dry_run: bool = False) -> list[PruneOutcome]:
    """Apply the retention policy of one or every configuration. Removal goes newest first, so
    a run is deleted only after every run that needs it."""
    outcomes = []
    for cfg in [config] if config is not None else list(BackupConfig.objects.all()):
        decision, runs = _prune_decision(cfg)
        outcome = PruneOutcome(config=cfg, decision=decision,
                               kept=[runs[i] for i in sorted(decision.keep, reverse=True) if i in runs])
        for run_id in decision.remove:
            run = runs[run_id]
            if not dry_run:
                try:
                    _delete_run(run)
                except (DestinationError, ProtectedError, OSError, ApplicationError) as exc:
                    outcome.errors.append(f"run {run.id}: {exc}")
                    break  # its parents may be needed by it: stop here
            outcome.removed.append(run)
        if not dry_run:
            _prune_failed(cfg)
        outcomes.append(outcome)
    return outcomes


def _delete_run(run: BackupRun) -> None:
    """The record first (the database refuses while another run points at it), then the
    archive: a failure leaves at worst an orphan file, never a run whose archive is gone."""
    try:
        with transaction.atomic():
            BackupRun.objects.filter(id=run.id).delete()
    except ProtectedError as exc:
        raise ApplicationError(f"run {run.id} is still needed by a later run") from exc
    if run.archive_name:
        destination_for(run.destination).delete(run.archive_name)


def _prune_failed(config: BackupConfig) -> None:
    cutoff = timezone.now() - timedelta(days=settings.BACKUP_FAILED_RUNS_KEEP_DAYS)
    BackupRun.objects.filter(config=config, status=BackupRun.Status.FAILED, created_at__lt=cutoff).delete()
