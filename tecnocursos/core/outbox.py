"""The transactional outbox: Celery tasks queued by committed work are never lost.

    with transaction.atomic():
        upload = Upload.objects.create(...)
        outbox_enqueue("tecnocursos.core.tasks.process_upload", upload.id)

The message row commits (or rolls back) with the work. After commit it is sent at once; if the
broker is down the request still succeeds and the message waits: `outbox_relay` (a periodic
task, and `manage.py outbox relay`) sends what is waiting, oldest first, so an outage delays
work but drops none. Two relays never send the same message at once (row locks, skipped).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tecnocursos.core.models import OutboxMessage

logger = logging.getLogger(__name__)
RELAY_BATCH = 200


def outbox_enqueue(task: str, *args: Any) -> OutboxMessage:
    """Record `task(*args)` in the current transaction; it is sent once that transaction commits."""
    message = OutboxMessage.objects.create(task=task, args=list(args))
    transaction.on_commit(lambda: _send_quietly(message.id))
    return message


def outbox_relay(*, limit: int = RELAY_BATCH) -> dict[str, int]:
    """Send waiting messages, oldest first; returns how many were sent and how many still wait."""
    sent = failed = 0
    with transaction.atomic():
        waiting = list(
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(sent_at=None).order_by("id")[:limit]
        )
        for message in waiting:
            if _send(message):
                sent += 1
            else:
                failed += 1
                break  # the broker is down: the rest would fail the same way
    return {"sent": sent, "waiting": OutboxMessage.objects.filter(sent_at=None).count()} | (
        {"failed": failed} if failed else {}
    )


def outbox_prune(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Forget messages sent long ago (the audit trail of recent dispatches stays)."""
    return OutboxMessage.objects.filter(sent_at__lt=timezone.now() - older_than).delete()[0]


def _send_quietly(message_id: int) -> None:
    # Right after commit, in the request: a broker outage must not turn a committed write into a 500.
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(id=message_id, sent_at=None).first()
        if message is not None:
            _send(message)


def _send(message: OutboxMessage) -> bool:
    from tecnocursos.celery import app

    message.attempts += 1
    try:
        app.send_task(message.task, args=message.args, retry=False)
    except Exception as exc:
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        message.save(update_fields=["attempts", "last_error"])
        logger.warning("outbox: %s not sent yet (%s); the relay will retry", message.task, message.last_error)
        return False
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["attempts", "sent_at", "last_error"])
    return True
