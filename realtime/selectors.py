"""Realtime reads."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from realtime import protocol
from realtime.events import chat_event
from realtime.models import ChatMessage, Notification, Room
from tecnocursos.core.exceptions import NotFound
from tecnocursos.core.models import Course
from tecnocursos.core.types import User


def chat_history(*, room_id: int, since: int | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """(chat events oldest first, recovered).

    Without `since`: the last `limit` messages. With it: every kept message after
    that id; `recovered` is False when some of them were pruned.
    """
    # Read the newest id first: a message committed meanwhile only adds to the list.
    room = Room.objects.only("name", "last_message_id").get(id=room_id)
    qs = ChatMessage.objects.filter(room_id=room_id).select_related("user")
    if since is None:
        messages = list(qs.order_by("-seq")[:limit])[::-1]
        recovered = True
    else:
        messages = list(qs.filter(seq__gt=since).order_by("seq"))
        recovered = since >= room.last_message_id or (bool(messages) and messages[0].seq == since + 1)
    return [chat_event(m, room=room.name, user=m.user) for m in messages], recovered


def notification_list(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user)
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    return qs.order_by("-created_at", "-id")


def notification_get(*, user: User, notification_id: int) -> Notification:
    notification = Notification.objects.filter(user=user, id=notification_id).first()
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def rooms_visible(*, user: User, rooms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop course rooms the user may not enter: their names would disclose activity."""
    if user.is_staff:
        return rooms
    wanted = {course_id for r in rooms if (course_id := protocol.course_id(r["name"])) is not None}
    allowed: set[int] = set()
    if wanted:
        courses = Course.objects.filter(id__in=wanted).filter(Q(owner=user) | Q(enrollments__user=user))
        allowed = set(courses.values_list("id", flat=True))
    return [r for r in rooms if not protocol.is_course_room(r["name"]) or protocol.course_id(r["name"]) in allowed]


def users_active(*, user_ids: list[int]) -> set[int]:
    """Those of `user_ids` still active: the sockets of the others (deactivated or deleted) are closed."""
    return set(User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
