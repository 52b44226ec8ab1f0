"""Realtime writes: what other apps call to reach users' sockets."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.events import event, user_group


def _group_send_on_commit(group: str, message: dict[str, Any]) -> None:
    # Events describe committed state: a rolled-back job must not be announced.
    def send() -> None:
        async_to_sync(get_channel_layer().group_send)(group, message)

    transaction.on_commit(send)


def progress_report(*, user_id: int, task_id: str, progress: int, status: str, message: str = "") -> None:
    """Push a `progress` event of a job to every socket of its owner."""
    payload = event("progress", task_id=str(task_id), progress=max(0, min(100, int(progress))),
                    status=status, message=message)
    _group_send_on_commit(user_group(user_id), {"type": "push", "event": payload})
