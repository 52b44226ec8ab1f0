"""Writes on content: courses and uploads."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from tecnocursos.cache.tags import ANALYTICS_CONTENT, invalidate_on_commit
from tecnocursos.core import filetypes
from tecnocursos.core.exceptions import ApplicationError, PayloadTooLarge
from tecnocursos.core.models import Course, OutboxMessage, Upload
from tecnocursos.core.outbox import outbox_enqueue
from tecnocursos.core.progress import report_progress
from tecnocursos.core.types import User

logger = logging.getLogger(__name__)


def course_create(*, owner: User, title: str, description: str = "", is_published: bool = False) -> Course:
    course = Course.objects.create(owner=owner, title=title, description=description, is_published=is_published)
    invalidate_on_commit([ANALYTICS_CONTENT])  # reports cached with this tag recompute
    return course


def upload_check_size(size: int | None) -> None:
    if size is not None and size > settings.UPLOAD_MAX_BYTES:
        raise PayloadTooLarge(
            f"File too large: {size} bytes; the limit is {settings.UPLOAD_MAX_BYTES} bytes.",
            extra={"max_bytes": settings.UPLOAD_MAX_BYTES},
        )


def _check_extension(name: str) -> None:
    suffix = PurePath(name).suffix.lower().lstrip(".")
    allowed = settings.UPLOAD_ALLOWED_EXTENSIONS
    if suffix not in allowed:
        raise ApplicationError(
            f"File type '.{suffix}' is not allowed; allowed: {', '.join(sorted(allowed))}.",
            status_code=400,
        )


PROCESS_UPLOAD = "tecnocursos.core.tasks.process_upload"


def upload_create(*, owner: User, file: UploadedFile, course: Course | None = None) -> Upload:
    """Store the file and queue its processing through the outbox, in the same transaction."""
    upload_check_size(file.size)
    _check_extension(file.name or "")
    if course is not None and not (owner.is_staff or course.owner_id == owner.pk):
        raise ApplicationError("You can only attach uploads to your own courses.", status_code=403)
    with transaction.atomic():
        upload = Upload(
            owner=owner,
            course=course,
            original_name=(file.name or "upload")[:255],
            declared_type=(file.content_type or "")[:120],
            size=file.size or 0,
            queued_at=timezone.now(),
        )
        upload.file.save(str(upload.task_id), file, save=False)
        upload.save()
        outbox_enqueue(PROCESS_UPLOAD, upload.id)
        invalidate_on_commit([ANALYTICS_CONTENT])
    return upload


def _claim(upload_id: int) -> Upload | None:
    """Move pending -> processing; exactly one worker wins, the others get None."""
    now = timezone.now()
    claim = uuid.uuid4()
    claimed = Upload.objects.filter(id=upload_id, status=Upload.Status.PENDING).update(
        status=Upload.Status.PROCESSING, started_at=now, heartbeat_at=now, claim=claim, attempts=F("attempts") + 1
    )
    return Upload.objects.get(id=upload_id) if claimed == 1 else None


def _still_ours(upload: Upload) -> QuerySet[Upload]:
    # A worker presumed dead may still be running: only the current claim may write the outcome.
    return Upload.objects.filter(id=upload.id, status=Upload.Status.PROCESSING, claim=upload.claim)


def upload_process(*, upload_id: int) -> Upload | None:
    """Checksum, size, detected type and text of an upload; `failed` with a reason on error.

    The stored file is never touched, so a failure loses nothing and can be retried.
    """
    upload = _claim(upload_id)
    if upload is None:
        return None
    task_id = str(upload.task_id)

    last_pct = -1
    next_beat = time.monotonic() + settings.UPLOAD_HEARTBEAT_SECONDS

    def progress(pct: int, status: str, message: str) -> None:
        nonlocal last_pct, next_beat
        if time.monotonic() >= next_beat:  # alive: the stale sweep leaves us alone
            next_beat = time.monotonic() + settings.UPLOAD_HEARTBEAT_SECONDS
            _still_ours(upload).update(heartbeat_at=timezone.now())
        if pct == last_pct and status == "processing":
            return  # one event per percent, not per chunk read
        last_pct = pct
        report_progress(user_id=upload.owner_id, task_id=task_id, progress=pct, status=status, message=message)

    progress(0, "processing", f"Processing {upload.original_name}")
    total = max(upload.size, 1)
    try:
        with upload.file.open("rb") as stream:
            result = filetypes.inspect(
                stream,
                text_limit=settings.UPLOAD_TEXT_EXTRACT_CHARS,
                on_progress=lambda done: progress(min(95, 5 + done * 90 // total), "processing", "Reading"),
            )
    except Exception as exc:  # any failure is recorded, never raised into the worker loop
        logger.exception("upload %s failed", upload_id)
        return _finish_failed(upload, f"{type(exc).__name__}: {exc}", progress)
    finished = _still_ours(upload).update(
        size=result.size, checksum=result.checksum, detected_type=result.detected_type, extracted_text=result.text,
        status=Upload.Status.DONE, failure_reason="", finished_at=timezone.now(),
    )
    if not finished:
        logger.warning("upload %s: finished after its claim was given up; the result is dropped", upload_id)
        return None
    invalidate_on_commit([ANALYTICS_CONTENT])
    upload.refresh_from_db()
    progress(100, "done", f"{upload.original_name}: {result.detected_type}, {result.size} bytes")
    return upload


def _finish_failed(upload: Upload, reason: str, progress: Callable[[int, str, str], None]) -> Upload | None:
    if not _still_ours(upload).update(status=Upload.Status.FAILED, failure_reason=reason[:2000],
                                      finished_at=timezone.now()):
        return None
    invalidate_on_commit([ANALYTICS_CONTENT])
    upload.refresh_from_db()
    progress(100, "failed", upload.failure_reason)
    return upload


def upload_requeue_stale(*, max_attempts: int = 3) -> dict[str, int]:
    """Find uploads whose worker is gone, or whose message was lost, within a minute.

    `processing` with a heartbeat older than UPLOAD_STALE_SECONDS: its worker died; back to the
    queue, or `failed` once it has used its attempts (a file that kills workers must not loop).
    `pending` queued longer ago than that, with its message already sent: the message was lost
    (a broker restart); queue it again. A late duplicate is harmless: the claim lets one run.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.UPLOAD_STALE_SECONDS)
    with transaction.atomic():
        stale = Upload.objects.filter(status=Upload.Status.PROCESSING, heartbeat_at__lt=cutoff)
        failed = stale.filter(attempts__gte=max_attempts).update(
            status=Upload.Status.FAILED, finished_at=timezone.now(), claim=None,
            failure_reason=f"Processing did not finish after {max_attempts} attempts.",
        )
        dead = list(stale.values_list("id", flat=True))
        Upload.objects.filter(id__in=dead, status=Upload.Status.PROCESSING).update(
            status=Upload.Status.PENDING, started_at=None, heartbeat_at=None, claim=None
        )
        unsent = {args[0] for args in OutboxMessage.objects.filter(task=PROCESS_UPLOAD, sent_at=None)
                  .values_list("args", flat=True) if args}  # waiting in the outbox: the relay sends them
        waiting = Upload.objects.filter(status=Upload.Status.PENDING, queued_at__lt=cutoff)
        lost = [i for i in waiting.values_list("id", flat=True) if i not in unsent and i not in dead]
        for upload_id in [*dead, *lost]:
            outbox_enqueue(PROCESS_UPLOAD, upload_id)
        Upload.objects.filter(id__in=[*dead, *lost]).update(queued_at=timezone.now())
        if failed or dead:
            invalidate_on_commit([ANALYTICS_CONTENT])
    return {"requeued": len(dead), "failed": failed, "resent": len(lost)}


def upload_retry(*, upload: Upload) -> Upload:
    """Put a failed upload back in the queue (admin action)."""
    with transaction.atomic():
        updated = Upload.objects.filter(id=upload.id, status=Upload.Status.FAILED).update(
            status=Upload.Status.PENDING, failure_reason="", started_at=None, finished_at=None, claim=None,
            queued_at=timezone.now(),
        )
        if updated:
            outbox_enqueue(PROCESS_UPLOAD, upload.id)
            invalidate_on_commit([ANALYTICS_CONTENT])
    upload.refresh_from_db()
    return upload
