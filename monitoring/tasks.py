"""Celery entry points of monitoring (scheduled in tecnocursos/schedule.py)."""

from __future__ import annotations

from celery import shared_task

from monitoring import services


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def collect_system() -> int | None:
    """One system sample; skipped while paused or when a queued run comes too soon after the last."""
    snapshot = services.snapshot_collect()
    return None if snapshot is None else snapshot.id


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def rollup_metrics() -> dict[str, int]:
    return services.rollups_run()


@shared_task(ignore_result=True, soft_time_limit=1200, time_limit=1500)
def enforce_retention() -> dict[str, int]:
    return services.retention_enforce()
