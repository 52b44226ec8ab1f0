"""Realtime writes: what consumers, views and other apps call.

Events describe committed state, so every push is sent on transaction commit: a
rolled-back job or message is never announced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from realtime import progress_store, protocol
from realtime.events import BROADCAST_GROUP, chat_event, event, notification_event, push, room_group, user_group
from realtime.models import ChatMessage, Notification, Room
from tecnocursos.core.exceptions import ApplicationError, PermissionDenied
from tecnocursos.core.selectors import course_member
from tecnocursos.core.types import User


def _channel_layer() -> BaseChannelLayer:
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured("CHANNEL_LAYERS has no default layer: realtime events cannot be sent.")
    return layer


def _group_send_on_commit(group: str, message: dict[str, Any]) -> None:
    def send() -> None:
        async_to_sync(_channel_layer().group_send)(group, message)

    transaction.on_commit(send)


# --- Rooms and chat ------------------------------------------------------------


def room_enter(*, user: User, name: str) -> Room:
    """The room `user` may enter (created on first use); PermissionDenied otherwise."""
    course_id = protocol.course_id(name)
    if protocol.is_course_room(name):
        if course_id is None or not course_member(user=user, course_id=course_id):
            raise PermissionDenied(f"You may not enter room '{name}'.")
    room, _ = Room.objects.get_or_create(name=name, defaults={"course_id": course_id})
    return room


def chat_post(*, room_id: int, user: User, body: str) -> ChatMessage:
    """Store a message under the room's next id, then fan it out to the room."""
    with transaction.atomic():
        # The row lock this UPDATE takes is held until commit: ids are given and
        # committed in order, so a reader never sees id n+1 before id n.
        Room.objects.filter(id=room_id).update(last_message_id=F("last_message_id") + 1)
        room = Room.objects.only("name", "last_message_id").get(id=room_id)
        message = ChatMessage.objects.create(room_id=room_id, seq=room.last_message_id, user=user, body=body)
        _prune(room_id, message.seq)
        _group_send_on_commit(room_group(room.name), push(chat_event(message, room=room.name, user=user)))
    return message


def _prune(room_id: int, newest: int) -> None:
    # Amortized: every keep/10 messages, drop what is older than the last `keep`.
    keep = max(1, int(settings.REALTIME_CHAT_KEEP))
    if newest > keep and newest % max(1, keep // 10) == 0:
        ChatMessage.objects.filter(room_id=room_id, seq__lte=newest - keep).delete()


def room_prune(*, room: Room) -> int:
    """Apply the retention now (admin action); returns how many messages were deleted."""
    cutoff = room.last_message_id - max(1, int(settings.REALTIME_CHAT_KEEP))
    return ChatMessage.objects.filter(room=room, seq__lte=cutoff).delete()[0]


def room_clear(*, room: Room) -> int:
    """Delete a room's whole history; ids keep counting so `since` still reports the gap."""
    return ChatMessage.objects.filter(room=room).delete()[0]


# --- Notifications ---------------------------------------------------------------


def _check_level(level: str) -> None:
    if level not in Notification.Level.values:
        raise ApplicationError(f"level must be one of: {', '.join(Notification.Level.values)}.")


def notification_send(
    *, user: User, title: str, message: str, level: str = Notification.Level.INFO,
    sender: User | None = None,
) -> Notification:
    """Store a notification for `user` and push it to every socket of theirs on commit.

    Offline users find it in `GET /api/notifications/`.
    """
    _check_level(level)
    with transaction.atomic():
        notification = Notification.objects.create(user=user, title=title, message=message, level=level,
                                                   sender=sender)
        notification_push(notification=notification)
    return notification


def notification_push(*, notification: Notification) -> None:
    """Send a stored notification live (again): to its user, or to everyone if a broadcast."""
    # A broadcast is exactly a notification without a recipient (a check constraint says so).
    user_id = notification.user_id
    group = BROADCAST_GROUP if user_id is None else user_group(user_id)
    _group_send_on_commit(group, push(notification_event(notification)))


def broadcast_send(
    *, message: str, title: str = "", level: str = Notification.Level.INFO, sender: User | None = None
) -> Notification:
    """One group message to the `broadcast` group that every socket joins (not a per-user loop)."""
    _check_level(level)
    with transaction.atomic():
        notification = Notification.objects.create(
            user=None, broadcast=True, title=title, message=message, level=level, sender=sender
        )
        notification_push(notification=notification)
    return notification


def notification_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the caller's notifications read (all unread ones when `ids` is None)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=list(ids))
    return qs.update(read_at=timezone.now())


def notification_set_read(*, notifications: QuerySet[Notification], read: bool) -> int:
    """Admin: mark notifications read or unread."""
    if read:
        return notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
    return notifications.update(read_at=None)


# --- Progress ----------------------------------------------------------------------


def progress_report(*, user_id: int, task_id: str, progress: int, status: str, message: str = "") -> None:
    """Push a `progress` event of a job to every socket of its owner, and keep it as
    the job's latest state for clients that connect later."""
    payload = event("progress", task_id=str(task_id), progress=max(0, min(100, int(progress))),
                    status=status, message=message)

    def send() -> None:
        progress_store.save(user_id=user_id, payload=payload)
        async_to_sync(_channel_layer().group_send)(user_group(user_id), push(payload))

    transaction.on_commit(send)
