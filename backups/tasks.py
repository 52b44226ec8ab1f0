"""Celery entry points: take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from backups import selectors, services


@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def run_backup(run_id: int, kind: str | None = None) -> None:
    # Claimed with a conditional update: a duplicate delivery finds it running and does nothing.
    # Not acks_late: a redelivered half-done backup is failed by the stale sweep, not re-run.
    services.backup_execute(run_id=run_id, kind=kind)


@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def scheduled_backup(config_id: int) -> None:
    services.backup_scheduled(config_id=config_id)


@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def verify_backup(run_id: int, user_id: int | None = None) -> None:
    from django.contrib.auth import get_user_model

    run = selectors.run_get(run_id=run_id)
    if user_id is not None and run.requested_by_id != user_id:
        run.requested_by = get_user_model().objects.filter(id=user_id).first()  # progress goes to the asker
    services.backup_verify(run=run)


@shared_task(soft_time_limit=12 * 3600, time_limit=12 * 3600 + 300)
def verify_latest_backups() -> dict[str, bool]:
    return services.backup_verify_latest()


@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def restore_backup(run_id: int, target: str, user_id: int | None = None) -> None:
    services.backup_restore_to(run_id=run_id, target=target, user_id=user_id)


@shared_task(soft_time_limit=3600, time_limit=3900)
def prune_backups() -> None:
    services.backup_prune()


@shared_task(soft_time_limit=300, time_limit=360)
def fail_stale_backups() -> list[int]:
    return services.backup_fail_stale()
