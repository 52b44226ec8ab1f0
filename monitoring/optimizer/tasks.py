"""Celery entry point of the optimizer (registered through monitoring/tasks.py)."""

from __future__ import annotations

from celery import shared_task

from monitoring.optimizer import services


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def run_optimizer() -> int:
    """The enabled actions (none unless MONITORING_OPTIMIZER_ACTIONS lists some)."""
    if not services.enabled_actions():
        return 0
    return len(services.optimizations_run())
