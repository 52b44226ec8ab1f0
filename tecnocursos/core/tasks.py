from __future__ import annotations

from celery import shared_task

from tecnocursos.core import outbox, services


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def process_upload(upload_id: int) -> None:
    # Idempotent: the service claims the row with a conditional update.
    services.upload_process(upload_id=upload_id)


@shared_task(soft_time_limit=60, time_limit=90)
def requeue_stale_uploads() -> dict[str, int]:
    return services.upload_requeue_stale()


@shared_task(soft_time_limit=60, time_limit=90)
def relay_outbox() -> dict[str, int]:
    return outbox.outbox_relay()


@shared_task(soft_time_limit=300, time_limit=360)
def prune_outbox() -> int:
    return outbox.outbox_prune()
