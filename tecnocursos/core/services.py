"""Writes on content: courses and uploads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tecnocursos.core import filetypes
from tecnocursos.core.exceptions import ApplicationError, PayloadTooLarge
from tecnocursos.core.models import Course, Upload
from tecnocursos.core.progress import report_progress
from tecnocursos.core.types import User

logger = logging.getLogger(__name__)


def course_create(*, owner: User, title: str, description: str = "", is_published: bool = False) -> Course:
    return Course.objects.create(owner=owner, title=title, description=description, is_published=is_published)


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


def upload_create(*, owner: User, file: UploadedFile, course: Course | None = None) -> Upload:
    """Store the file and queue its processing once the row is committed."""
    upload_check_size(file.size)
    _check_extension(file.name or "")
    if course is not None and not (owner.is_staff or course.owner_id == owner.pk):
        raise ApplicationError("You can only attach uploads to your own courses.", status_code=403)
    from tecnocursos.core.tasks import process_upload  # tasks import services: break the cycle

    with transaction.atomic():
        upload = Upload(
            owner=owner,
            course=course,
            original_name=(file.name or "upload")[:255],
            declared_type=(file.content_type or "")[:120],
            size=file.size or 0,
        )
        upload.file.save(str(upload.task_id), file, save=False)
        upload.save()
        transaction.on_commit(lambda: process_upload.delay(upload.id))
    return upload


def _claim(upload_id: int) -> Upload | None:
    """Move pending -> processing; exactly one worker wins, the others get None."""
    now = timezone.now()
    claimed = Upload.objects.filter(id=upload_id, status=Upload.Status.PENDING).update(
        status=Upload.Status.PROCESSING, started_at=now, attempts=F("attempts") + 1
    )
    return Upload.objects.get(id=upload_id) if claimed == 1 else None


def upload_process(*, upload_id: int) -> Upload | None:
    """Checksum, size, detected type and text of an upload; `failed` with a reason on error.

    The stored file is never touched, so a failure loses nothing and can be retried.
    """
    upload = _claim(upload_id)
    if upload is None:
        return None
    task_id = str(upload.task_id)

    last_pct = -1

    def progress(pct: int, status: str, message: str) -> None:
        nonlocal last_pct
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
    upload.size = result.size
    upload.checksum = result.checksum
    upload.detected_type = result.detected_type
    upload.extracted_text = result.text
    upload.status = Upload.Status.DONE
    upload.failure_reason = ""
    upload.finished_at = timezone.now()
    upload.save(update_fields=["size", "checksum", "detected_type", "extracted_text", "status",
                               "failure_reason", "finished_at"])
    progress(100, "done", f"{upload.original_name}: {result.detected_type}, {result.size} bytes")
    return upload


def _finish_failed(upload: Upload, reason: str, progress: Callable[[int, str, str], None]) -> Upload:
    upload.status = Upload.Status.FAILED
    upload.failure_reason = reason[:2000]
    upload.finished_at = timezone.now()
    upload.save(update_fields=["status", "failure_reason", "finished_at"])
    progress(100, "failed", upload.failure_reason)
    return upload


def upload_requeue_stale(*, older_than_seconds: int = 900, max_attempts: int = 3) -> dict[str, int]:
    """Uploads left in `processing` by a worker that died: back to the queue, or
    `failed` once they have used their attempts (a file that kills workers must not loop)."""
    from datetime import timedelta

    from tecnocursos.core.tasks import process_upload

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = Upload.objects.filter(status=Upload.Status.PROCESSING, started_at__lt=cutoff)
    with transaction.atomic():
        failed = stale.filter(attempts__gte=max_attempts).update(
            status=Upload.Status.FAILED, finished_at=timezone.now(),
            failure_reason=f"Processing did not finish after {max_attempts} attempts.",
        )
        ids = list(stale.values_list("id", flat=True))
        requeued = Upload.objects.filter(id__in=ids, status=Upload.Status.PROCESSING).update(
            status=Upload.Status.PENDING, started_at=None
        )
        for upload_id in ids:
            transaction.on_commit(partial(process_upload.delay, upload_id))
    return {"requeued": requeued, "failed": failed}


def upload_retry(*, upload: Upload) -> Upload:
    """Put a failed upload back in the queue (admin action)."""
    from tecnocursos.core.tasks import process_upload

    with transaction.atomic():
        updated = Upload.objects.filter(id=upload.id, status=Upload.Status.FAILED).update(
            status=Upload.Status.PENDING, failure_reason="", started_at=None, finished_at=None
        )
        if updated:
            transaction.on_commit(lambda: process_upload.delay(upload.id))
    upload.refresh_from_db()
    return upload
