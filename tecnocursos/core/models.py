"""The platform's own content: courses, enrollments and uploaded files."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Course(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courses")
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Enrollment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="unique_enrollment")]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"


def upload_path(instance: Upload, filename: str) -> str:
    # The stored name never comes from the client: no traversal, no collisions.
    return f"uploads/{instance.owner_id}/{instance.task_id}"


class Upload(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        DONE = "done"
        FAILED = "failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads")
    file = models.FileField(upload_to=upload_path, max_length=300)
    original_name = models.CharField(max_length=255)
    declared_type = models.CharField(max_length=120, blank=True)
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    task_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the stored bytes")
    detected_type = models.CharField(max_length=120, blank=True)
    extracted_text = models.TextField(blank=True)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Liveness of the worker processing it: a stale heartbeat means the worker is gone.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The claim of the current attempt: only its holder may finish the upload.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    # When its processing task was last queued: a pending upload queued long ago lost its message.
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"

    @property
    def processing_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class OutboxMessage(models.Model):
    """A Celery task to send once the transaction that wrote it commits (a transactional outbox).

    Written in the same transaction as the row the task works on, so a job is never committed
    without its message; sent right after commit, and again by the relay (every few seconds) while
    the broker is unreachable. Tasks sent from here must be idempotent: a message may be sent twice
    when a send succeeds but its bookkeeping does not (the jobs claim their rows).
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["sent_at", "id"], name="outbox_unsent_idx")]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "waiting"
        return f"{self.task}{tuple(self.args)} ({state})"
