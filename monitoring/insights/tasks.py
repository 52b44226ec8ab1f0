"""Celery entry point of bottleneck detection (registered through monitoring/tasks.py)."""

from __future__ import annotations

from celery import shared_task

from monitoring.insights import services


@shared_task(ignore_result=True, soft_time_limit=100, time_limit=120)
def detect_bottlenecks() -> int:
    return len(services.findings_detect())
