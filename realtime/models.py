"""Rooms, their stored chat messages, and notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Room(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # Set for `course-<id>` rooms: only the course's owner, enrolled users and staff may enter.
    course = models.ForeignKey("core.Course", null=True, blank=True, on_delete=models.CASCADE, related_name="rooms")
    last_message_id = models.PositiveBigIntegerField(
        default=0, help_text="Id of the newest chat message; ids never repeat, even after pruning."
    )
    # Who created the room on first join: public rooms per user are capped (REALTIME_ROOMS_PER_USER).
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChatMessage(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # The per-room id clients see as `id` and send back as `since`.
    seq = models.PositiveBigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages")
    body = models.TextField()
    # The sender's own id for the frame: a retry with the same one returns this message. NULL, not
    # "", for none: the unique constraint covers only messages that have one.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="unique_chat_seq_per_room"),
            models.UniqueConstraint(fields=["room", "user", "client_id"], condition=Q(client_id__isnull=False),
                                    name="unique_chat_client_id"),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq}"


class Notification(models.Model):
    class Level(models.TextChoices):
        INFO = "info"
        SUCCESS = "success"
        WARNING = "warning"
        ERROR = "error"

    # A broadcast goes to every connected user and has no recipient row.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    broadcast = models.BooleanField(default=False)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True)
    message = models.TextField()
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(broadcast=True, user__isnull=True) | Q(broadcast=False, user__isnull=False),
                name="notification_has_user_unless_broadcast",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.message[:50]

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
