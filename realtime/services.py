"""Realtime writes: what consumers, views and other apps call.

Events describe committed state, so every push is sent on transaction commit: a
rolled-back job or message is never announced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from realtime import progress_store, protocol
from realtime.events import BROADCAST_GROUP, chat_event, event, notification_event, push, room_group, user_group
from realtime.models import ChatMessage, Notification, Room
from tecnocursos.core.exceptions import ApplicationError, PermissionDenied
from tecnocursos.core.selectors import course_member
from tecnocursos.core.types import User
from tecnocursos.lib.redis_clients import REDIS_DOWN

logger = logging.getLogger(__name__)


class RoomLimit(ApplicationError):
    """The user may not create another room (REALTIME_ROOMS_PER_USER)."""


def _channel_layer() -> BaseChannelLayer:
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured("CHANNEL_LAYERS has no default layer: realtime events cannot be sent.")
    return layer


def _group_send_on_commit(group: str, message: dict[str, Any], failed: list[BaseException] | None = None) -> None:
    """Send on commit. The row is stored whatever happens: a push that Redis refuses is logged
    (and added to `failed`), not raised, so the caller's answer can say "stored"."""
    def send() -> None:
        try:
            async_to_sync(_channel_layer().group_send)(group, message)
        except REDIS_DOWN as exc:
            logger.warning("live push to %s failed (stored all the same): %s", group, exc)
            if failed is not None:
                failed.append(exc)

    transaction.on_commit(send)


# --- Rooms and chat ------------------------------------------------------------


def room_enter(*, user: User, name: str) -> Room:
    """The room `user` may enter; PermissionDenied otherwise.

    A missing room is created on first use: a course room by any member of the course, a
    public room by a user who has created fewer than REALTIME_ROOMS_PER_USER rooms (staff:
    no cap), so one user cannot fill the table with names.
    """
    course_id = protocol.course_id(name)
    if protocol.is_course_room(name):
        if course_id is None or not course_member(user=user, course_id=course_id):
            raise PermissionDenied(f"You may not enter room '{name}'.")
    room = Room.objects.filter(name=name).first()
    if room is not None:
        return room
    cap = int(settings.REALTIME_ROOMS_PER_USER)
    if course_id is None and not user.is_staff and Room.objects.filter(created_by=user).count() >= cap:
        raise RoomLimit(f"You may create at most {cap} rooms; join an existing one.")
    try:
        with transaction.atomic():  # a savepoint: a refused insert leaves the caller's transaction usable
            return Room.objects.create(name=name, course_id=course_id, created_by=user)
    except IntegrityError:  # someone created it since the lookup above
        return Room.objects.get(name=name)


@dataclass(frozen=True)
class ChatPosted:
    message: ChatMessage
    duplicate: bool  # stored before under the same (room, user, client_id): nothing stored or sent now
    pushed: bool  # False: stored, but Redis refused the live fan-out (clients recover it with `since`)


def chat_post(*, room_id: int, user: User, body: str, client_id: str | None = None) -> ChatMessage:
    return chat_send(room_id=room_id, user=user, body=body, client_id=client_id).message


def chat_send(*, room_id: int, user: User, body: str, client_id: str | None = None) -> ChatPosted:
    """Store a message under the room's next id, then fan it out to the room.

    With `client_id`, a retried frame (same room, user and id) returns the stored message
    instead of storing a second one: the insert is the check, refused by the unique constraint
    `unique_chat_client_id` (also when two retries race), with no SELECT before it.
    """
    failed: list[BaseException] = []
    try:
        # One savepoint for the id and the insert: a refused retry rolls back the id it took as
        # well, so ids stay gapless (a savepoint around the insert alone would burn one per retry,
        # which `since` would report as a pruned message).
        with transaction.atomic():
            # The row lock this UPDATE takes is held until commit: ids are given and
            # committed in order, so a reader never sees id n+1 before id n.
            Room.objects.filter(id=room_id).update(last_message_id=F("last_message_id") + 1)
            room = Room.objects.only("name", "last_message_id").get(id=room_id)
            message = ChatMessage.objects.create(room_id=room_id, seq=room.last_message_id, user=user, body=body,
                                                 client_id=client_id)
            _prune(room_id, message.seq)
            _group_send_on_commit(room_group(room.name), push(chat_event(message, room=room.name, user=user)),
                                  failed)
    except IntegrityError:
        # Only a stored message with this client_id makes it a retry; any other violation is raised.
        earlier = None if client_id is None else ChatMessage.objects.filter(
            room_id=room_id, user=user, client_id=client_id).first()
        if earlier is None:
            raise
        return ChatPosted(earlier, duplicate=True, pushed=True)
    return ChatPosted(message, duplicate=False, pushed=not failed)


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


# --- Accounts --------------------------------------------------------------------


def user_sockets_close(*, user_id: int) -> None:
    """Close every socket of a deactivated or deleted user (4401), in every server process."""
    _group_send_on_commit(user_group(user_id), {"type": "revoke"})


# --- Progress ----------------------------------------------------------------------


def progress_report(*, user_id: int, task_id: str, progress: int, status: str, message: str = "") -> None:
    """Push a `progress` event of a job to every socket of its owner, and keep it as
    the job's latest state for clients that connect later."""
    payload = event("progress", task_id=str(task_id), progress=max(0, min(100, int(progress))),
                    status=status, message=message)

    def send() -> None:
        try:
            progress_store.save(user_id=user_id, payload=payload)
            async_to_sync(_channel_layer().group_send)(user_group(user_id), push(payload))
        except REDIS_DOWN as exc:  # progress is advisory: the job's own row has the truth
            logger.warning("progress push for %s failed: %s", task_id, exc)

    transaction.on_commit(send)
