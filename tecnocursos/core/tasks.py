from __future__ import annotations

from celery import shared_task

from tecnocursos.core import services


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def process_upload(upload_id: int) -> None:
    # Idempotent: the service claims the row with a conditional update.
    services.upload_process(upload_id=upload_id)
