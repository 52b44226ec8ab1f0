"""Celery entry points of the alerts (registered through monitoring/tasks.py)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from monitoring.alerting import notify, services


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def evaluate_alerts() -> dict[str, int]:
    """Every enabled rule, once; queued after each collection and on its own schedule."""
    return services.rules_evaluate()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def dispatch_alert_event(event_id: int) -> int:
    return notify.event_dispatch(event_id=event_id)


@shared_task(bind=True, ignore_result=True, max_retries=None, soft_time_limit=50, time_limit=60)
def deliver_webhook(self: Any, delivery_id: int) -> str:
    """One attempt; a retryable failure comes back after the delivery's backoff."""
    outcome = notify.delivery_attempt(delivery_id=delivery_id)
    if outcome.status == "retry":
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def sweep_alert_notifications() -> dict[str, int]:
    return notify.notifications_sweep()
