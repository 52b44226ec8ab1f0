"""Event shapes and group names shared by consumers and services (no I/O).

Group names are part of the fan-out design (bench/ relies on them): one group per
user, one per room, and `broadcast`, which every socket joins.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from realtime.models import ChatMessage, Notification
    from tecnocursos.core.types import User

BROADCAST_GROUP = "broadcast"
# Channels group names are shorter than 100 characters; longer room names are hashed.
_MAX_PLAIN_ROOM = 90


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def room_group(room: str) -> str:
    if len(room) <= _MAX_PLAIN_ROOM:
        return f"room.{room}"
    return f"roomh.{hashlib.sha256(room.encode()).hexdigest()}"


def event(type_: str, *, at: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """A server event: every frame has `type` and an ISO 8601 `timestamp`."""
    return {"type": type_, **fields, "timestamp": (at or timezone.now()).isoformat()}


def push(payload: dict[str, Any]) -> dict[str, Any]:
    """The group message that makes every member socket send `payload` (the `push` handler)."""
    return {"type": "push", "event": payload}


def user_ref(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username()}


def chat_event(message: ChatMessage, *, room: str, user: User) -> dict[str, Any]:
    # The stored time, so live and history copies of a message are identical.
    extra = {"client_id": message.client_id} if message.client_id else {}  # the sender matches its retries
    return event("chat", at=message.created_at, id=message.seq, room=room, message=message.body,
                 user=user_ref(user), **extra)


def notification_event(notification: Notification) -> dict[str, Any]:
    return event(
        "notification",
        at=notification.created_at,
        id=notification.id,
        title=notification.title,
        message=notification.message,
        level=notification.level,
        broadcast=notification.broadcast,
        read=notification.read_at is not None,
    )


# The last pushed event and its JSON text: the fan-out hands one dict to every local member of a
# group in turn (realtime/fanout/layer.py), so a broadcast is encoded once per process, not per socket.
_last_encoded: tuple[dict[str, Any], str] | None = None


def encoded(payload: dict[str, Any]) -> str:
    """`payload` as JSON text (what `send_json` sends), reusing the text of the same dict just before."""
    global _last_encoded
    if _last_encoded is not None and _last_encoded[0] is payload:
        return _last_encoded[1]
    text = json.dumps(payload)
    _last_encoded = (payload, text)
    return text
