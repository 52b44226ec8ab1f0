from __future__ import annotations

import hashlib
import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from tecnocursos.core import services
from tecnocursos.core.models import Upload

pytestmark = pytest.mark.django_db



def outbox_sends(callbacks: list) -> list:
    """The on-commit callbacks that send outbox messages (others, e.g. cache invalidations, may run too)."""
    return [callback for callback in callbacks if "outbox" in callback.__qualname__]

def make_upload(owner, content: bytes, name: str = "a.txt") -> Upload:
    upload = Upload(owner=owner, original_name=name, size=len(content))
    upload.file.save(str(upload.task_id), ContentFile(content), save=False)
    upload.save()
    return upload


def test_it_records_checksum_size_type_and_text(owner):
    content = "Olá, mundo\nsegunda linha".encode()
    upload = make_upload(owner, content)
    services.upload_process(upload_id=upload.id)
    upload.refresh_from_db()
    assert upload.status == "done"
    assert upload.checksum == hashlib.sha256(content).hexdigest()
    assert upload.size == len(content)
    assert upload.detected_type == "text/plain"
    assert upload.extracted_text == "Olá, mundo\nsegunda linha"
    assert upload.processing_ms is not None


def test_it_detects_binary_types_from_content_not_name(owner):
    upload = make_upload(owner, b"%PDF-1.7\n...binary", name="looks.txt")
    services.upload_process(upload_id=upload.id)
    upload.refresh_from_db()
    assert upload.detected_type == "application/pdf"
    assert upload.extracted_text == ""


def test_a_failure_is_recorded_and_the_file_kept(owner, monkeypatch):
    upload = make_upload(owner, b"data")

    def explode(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr("tecnocursos.core.filetypes.inspect", explode)
    services.upload_process(upload_id=upload.id)
    upload.refresh_from_db()
    assert upload.status == "failed"
    assert "disk on fire" in upload.failure_reason
    assert upload.file.read() == b"data"


def test_a_failed_upload_can_be_retried(owner, monkeypatch, django_capture_on_commit_callbacks):
    upload = make_upload(owner, b"data")
    monkeypatch.setattr("tecnocursos.core.filetypes.inspect", lambda *a, **k: (_ for _ in ()).throw(OSError("x")))
    services.upload_process(upload_id=upload.id)
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.upload_retry(upload=Upload.objects.get(id=upload.id))
    assert len(outbox_sends(callbacks)) == 1
    services.upload_process(upload_id=upload.id)
    upload.refresh_from_db()
    assert upload.status == "done" and upload.attempts == 2


class Lockstep:
    """Runs the SQL of two threads in step: each statement waits until the other thread reaches its
    statement of the same rank. A claim that reads, then writes, thus always has both reads done before
    either write; a conditional UPDATE sends both updates to the database at once."""

    def __init__(self, timeout: float = 5) -> None:
        # The timeout only frees a claim that holds a lock across statements (it would deadlock here).
        self.barrier = threading.Barrier(2, timeout=timeout)
        self.in_step: list[str] = []  # statements run in step (list.append is thread-safe)

    def __call__(self, execute, sql, params, many, context):
        try:
            self.barrier.wait()
            self.in_step.append(sql)
        except threading.BrokenBarrierError:
            pass  # the other thread is done: run freely
        return execute(sql, params, many, context)

    def leave(self) -> None:
        self.barrier.abort()


@pytest.mark.django_db(transaction=True)  # each thread has its own connection: the row must be committed
def test_only_one_worker_claims_an_upload(owner):
    upload = make_upload(owner, b"data")
    lockstep = Lockstep()
    results: list[Upload | None] = []

    def worker() -> None:
        try:
            with connection.execute_wrapper(lockstep):
                results.append(services.upload_process(upload_id=upload.id))
        finally:
            lockstep.leave()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2
    assert len(lockstep.in_step) >= 2  # both claims went to the database together
    assert sum(result is not None for result in results) == 1
    upload.refresh_from_db()
    assert (upload.status, upload.attempts) == ("done", 1)


def test_a_processed_upload_is_not_processed_again(owner):
    upload = make_upload(owner, b"data")
    assert services.upload_process(upload_id=upload.id) is not None
    assert services.upload_process(upload_id=upload.id) is None


def test_it_reports_progress_to_the_owner(owner, monkeypatch):
    seen: list[dict] = []
    monkeypatch.setattr("tecnocursos.core.progress._reporter", lambda: lambda **kw: seen.append(kw))
    upload = make_upload(owner, b"x" * 10)
    services.upload_process(upload_id=upload.id)
    assert seen[0]["progress"] == 0 and seen[-1]["progress"] == 100
    assert seen[-1]["status"] == "done"
    assert {s["user_id"] for s in seen} == {owner.id}
    assert {s["task_id"] for s in seen} == {str(upload.task_id)}


def test_uploads_whose_worker_stopped_beating_are_requeued_or_failed(owner, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from tecnocursos.core.models import OutboxMessage

    silent = timezone.now() - timedelta(seconds=46)  # UPLOAD_STALE_SECONDS is 45
    stuck = make_upload(owner, b"a")
    exhausted = make_upload(owner, b"b")
    alive = make_upload(owner, b"c")
    Upload.objects.filter(id=stuck.id).update(status="processing", heartbeat_at=silent, queued_at=silent, attempts=1)
    Upload.objects.filter(id=exhausted.id).update(status="processing", heartbeat_at=silent, attempts=3)
    # Started long ago but still beating: a slow worker, not a dead one.
    Upload.objects.filter(id=alive.id).update(status="processing", started_at=timezone.now() - timedelta(hours=1),
                                              heartbeat_at=timezone.now(), attempts=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.upload_requeue_stale(max_attempts=3)
    assert result == {"requeued": 1, "failed": 1, "resent": 0}
    assert len(outbox_sends(callbacks)) == 1  # one outbox message, sent on commit
    assert list(OutboxMessage.objects.values_list("task", "args")) == [(services.PROCESS_UPLOAD, [stuck.id])]
    statuses = dict(Upload.objects.values_list("id", "status"))
    assert statuses == {stuck.id: "pending", exhausted.id: "failed", alive.id: "processing"}
