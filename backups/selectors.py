"""Reads on backups."""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import Count, Max, Q, QuerySet, Sum

from backups.engine.manifest import Manifest, ManifestError
from backups.models import BackupConfig, BackupManifest, BackupRun
from tecnocursos.core.exceptions import ApplicationError, NotFound


def config_get(*, name: str) -> BackupConfig:
    # A NUL byte can name nothing (and PostgreSQL refuses it in a query).
    config = BackupConfig.objects.filter(name=name).first() if "\x00" not in name else None
    if config is None:
        raise NotFound(f"No backup configuration named {name!r}.")
    return config


def run_get(*, run_id: int) -> BackupRun:
    if not 0 < run_id < 2**63:  # beyond a bigint: no such row (and no database error)
        raise NotFound(f"Backup run {run_id} not found.")
    run = BackupRun.objects.select_related("config").filter(id=run_id).first()
    if run is None:
        raise NotFound(f"Backup run {run_id} not found.")
    return run


def run_list(*, config: str | None = None, status: str | None = None, kind: str | None = None) -> QuerySet[BackupRun]:
    runs = BackupRun.objects.select_related("config").order_by("-created_at", "-id")
    if config:
        runs = runs.filter(config__name=config) if "\x00" not in config else runs.none()
    if status:
        runs = runs.filter(status=status)
    if kind:
        runs = runs.filter(kind=kind)
    return runs


def run_latest_completed(*, config: BackupConfig) -> BackupRun | None:
    return (BackupRun.objects.select_related("config")
            .filter(config=config, status=BackupRun.Status.COMPLETED).order_by("-finished_at", "-id").first())


def manifest_of(*, run: BackupRun | None) -> Manifest:
    if run is None:
        raise NotFound("No such run.")
    stored = BackupManifest.objects.filter(run_id=run.id).first()
    if stored is None:
        raise ApplicationError(f"Run {run.id} has no manifest (it did not complete).", status_code=409)
    try:
        return Manifest.from_bytes(bytes(stored.data))
    except ManifestError as exc:
        raise ApplicationError(f"The manifest of run {run.id} is damaged: {exc}", status_code=409) from exc


class ConfigSummary(TypedDict):
    name: str
    enabled: bool
    kind_policy: str
    archive_format: str
    encrypted: bool
    destination: str
    schedule: str | None
    runs: int
    completed: int
    failed: int
    size: int
    last_run: dict[str, Any] | None
    last_success_at: Any


def _run_brief(run: BackupRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"id": run.id, "config": run.config.name, "kind": run.kind, "status": run.status,
            "started_at": run.started_at, "finished_at": run.finished_at, "size": run.bytes_out,
            "checksum": run.checksum, "encrypted": run.encrypted, "verify_ok": run.verify_ok}


def backup_overview() -> dict[str, Any]:
    """For /api/analytics/services/backup: the last backup, counts, total size, configs."""
    counts = BackupRun.objects.aggregate(
        total=Count("id"),
        **{status: Count("id", filter=Q(status=status)) for status in BackupRun.Status.values},
        size=Sum("bytes_out", filter=Q(status=BackupRun.Status.COMPLETED)),
    )
    per_config = {
        row["config_id"]: row for row in BackupRun.objects.values("config_id").annotate(
            runs=Count("id"),
            completed=Count("id", filter=Q(status=BackupRun.Status.COMPLETED)),
            failed=Count("id", filter=Q(status=BackupRun.Status.FAILED)),
            size=Sum("bytes_out", filter=Q(status=BackupRun.Status.COMPLETED)),
            last_success_at=Max("finished_at", filter=Q(status=BackupRun.Status.COMPLETED)),
        )
    }
    latest = {run.config_id: run for run in _latest_per_config()}
    configs: list[ConfigSummary] = []
    for config in BackupConfig.objects.select_related("schedule").order_by("name"):
        stats: dict[str, Any] = dict(per_config.get(config.id, {}))
        configs.append({
            "name": config.name, "enabled": config.enabled, "kind_policy": config.kind_policy,
            "archive_format": config.archive_format, "encrypted": config.encrypted,
            "destination": config.destination, "schedule": _crontab(config),
            "runs": stats.get("runs", 0), "completed": stats.get("completed", 0), "failed": stats.get("failed", 0),
            "size": stats.get("size") or 0, "last_run": _run_brief(latest.get(config.id)),
            "last_success_at": stats.get("last_success_at"),
        })
    last = BackupRun.objects.select_related("config").filter(status=BackupRun.Status.COMPLETED) \
        .order_by("-finished_at", "-id").first()
    return {
        "last_backup": _run_brief(last),
        "counts": {"total": counts["total"], **{s: counts[s] for s in BackupRun.Status.values}},
        "total_size": counts["size"] or 0,
        "configs": configs,
    }


def _latest_per_config() -> list[BackupRun]:
    ids = BackupRun.objects.values("config_id").annotate(last=Max("id")).values_list("last", flat=True)
    return list(BackupRun.objects.select_related("config").filter(id__in=list(ids)))


def _crontab(config: BackupConfig) -> str | None:
    schedule = config.schedule
    if schedule is None:
        return None
    return (f"{schedule.minute} {schedule.hour} {schedule.day_of_month} {schedule.month_of_year} "
            f"{schedule.day_of_week} ({schedule.timezone})")


def last_success_by_config() -> dict[str, Any]:
    """config name -> finish time of its newest completed run (for metrics)."""
    rows = BackupRun.objects.filter(status=BackupRun.Status.COMPLETED).values("config__name") \
        .annotate(last=Max("finished_at"))
    return {row["config__name"]: row["last"] for row in rows}


def backup_facts() -> list[dict[str, Any]]:
    """Per enabled configuration, what the alert rules on backups read (settings:
    MONITORING_ALERTS_BACKUP_FACTS): the latest run's status, the last success and since when
    backups are due (the configuration's creation)."""
    latest = {run.config_id: run for run in _latest_per_config()}
    successes = dict(
        BackupRun.objects.filter(status=BackupRun.Status.COMPLETED).values("config_id")
        .annotate(last=Max("finished_at")).values_list("config_id", "last")
    )
    return [
        {"config": config.name, "last_status": latest[config.id].status if config.id in latest else None,
         "last_success_at": successes.get(config.id), "since": config.created_at}
        for config in BackupConfig.objects.filter(enabled=True).order_by("name")
    ]
