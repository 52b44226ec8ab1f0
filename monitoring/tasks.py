"""Celery entry points of monitoring (scheduled in tecnocursos/schedule.py)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from monitoring import live, services
from monitoring.alerting.tasks import (  # noqa: F401 (registered with Celery through this module)
    deliver_webhook,
    dispatch_alert_event,
    evaluate_alerts,
    sweep_alert_notifications,
)
from monitoring.insights.tasks import detect_bottlenecks  # noqa: F401
from monitoring.optimizer.tasks import run_optimizer  # noqa: F401


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def collect_system() -> int | None:
    """One system sample; skipped while paused or when a queued run comes too soon after the last.

    Each new sample is judged at once: the alert rules are evaluated in their own task."""
    snapshot = services.snapshot_collect()
    if snapshot is None:
        return None
    live.sample_push(snapshot)  # the dashboard's live charts (best effort)
    transaction.on_commit(evaluate_alerts.delay, robust=True)
    return snapshot.id


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def rollup_metrics() -> dict[str, int]:
    return services.rollups_run()


@shared_task(ignore_result=True, soft_time_limit=1200, time_limit=1500)
def enforce_retention() -> dict[str, int]:
    return services.retention_enforce()
