"""No accepted work is lost: a task queued by committed work goes through the outbox, so a broker
outage delays it (the upload is still accepted, 201) and the relay sends it when the broker is back;
a lost message or a dead worker is noticed within a minute; a job never finishes twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tecnocursos.core import outbox, services
from tecnocursos.core.models import OutboxMessage, Upload
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


class Broker:
    """Stands in for Celery's send_task: up or down, and what it was given."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[tuple[str, list[Any]]] = []

    def send_task(self, name: str, args: list[Any], **kwargs: Any) -> None:
        if not self.up:
            raise ConnectionRefusedError("broker down")
        self.sent.append((name, list(args)))


@pytest.fixture
def broker(monkeypatch) -> Broker:
    from tecnocursos.celery import app

    fake = Broker()
    monkeypatch.setattr(app, "send_task", fake.send_task)
    return fake


@pytest.fixture
def media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def upload_file(client, name: str = "notes.txt"):
    return client.post("/api/uploads/", {"file": SimpleUploadedFile(name, b"hello")}, format="multipart")


def test_an_upload_during_a_broker_outage_is_accepted_and_sent_when_the_broker_returns(
        owner, broker, media, django_capture_on_commit_callbacks):
    broker.up = False
    with django_capture_on_commit_callbacks(execute=True):
        response = upload_file(api_client_for(owner))
    assert response.status_code == 201  # not a 500 after the commit
    upload_id = response.json()["id"]
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and message.attempts == 1 and "broker down" in message.last_error
    assert outbox.outbox_relay() == {"sent": 0, "waiting": 1, "failed": 1}
    broker.up = True
    assert outbox.outbox_relay() == {"sent": 1, "waiting": 0}
    assert broker.sent == [(services.PROCESS_UPLOAD, [upload_id])]
    assert outbox.outbox_relay() == {"sent": 0, "waiting": 0}  # sent once


def test_a_message_is_sent_right_after_commit_and_not_before(owner, broker, media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload_file(api_client_for(owner))
    assert broker.sent == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert len(broker.sent) == 1 and OutboxMessage.objects.get().sent_at is not None


def test_a_rolled_back_upload_sends_nothing(owner, broker, media):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.outbox_enqueue(services.PROCESS_UPLOAD, 1)
        raise RuntimeError("the work failed")
    assert OutboxMessage.objects.count() == 0 and broker.sent == []


def test_a_pending_upload_whose_message_was_lost_is_queued_again(owner, broker, media,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload_id = upload_file(api_client_for(owner)).json()["id"]
    assert len(broker.sent) == 1  # ... and then the broker restarted and lost it
    assert services.upload_requeue_stale()["resent"] == 0  # too early to tell
    Upload.objects.filter(id=upload_id).update(queued_at=timezone.now() - timedelta(seconds=60))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.upload_requeue_stale()["resent"] == 1
    assert broker.sent[-1] == (services.PROCESS_UPLOAD, [upload_id])


def test_a_pending_upload_still_in_the_outbox_is_left_to_the_relay(owner, broker, media,
                                                                   django_capture_on_commit_callbacks):
    broker.up = False
    with django_capture_on_commit_callbacks(execute=True):
        upload_id = upload_file(api_client_for(owner)).json()["id"]
    Upload.objects.filter(id=upload_id).update(queued_at=timezone.now() - timedelta(seconds=60))
    assert services.upload_requeue_stale()["resent"] == 0
    assert OutboxMessage.objects.count() == 1


def test_a_worker_presumed_dead_cannot_finish_an_upload_another_worker_took_over(owner, media, monkeypatch):
    from django.core.files.base import ContentFile

    upload = Upload(owner=owner, original_name="a.txt", size=1)
    upload.file.save(str(upload.task_id), ContentFile(b"a"), save=False)
    upload.save()
    real_inspect = services.filetypes.inspect

    def slow_then_taken_over(stream: Any, **kwargs: Any) -> Any:
        result = real_inspect(stream, **kwargs)
        # While this worker was stuck, the sweep gave its claim to another worker.
        Upload.objects.filter(id=upload.id).update(claim=None)
        return result

    monkeypatch.setattr(services.filetypes, "inspect", slow_then_taken_over)
    assert services.upload_process(upload_id=upload.id) is None
    upload.refresh_from_db()
    assert upload.status == "processing" and upload.checksum == ""  # its result was dropped


def test_processing_beats_while_it_reads(owner, media, settings, monkeypatch):
    from django.core.files.base import ContentFile

    settings.UPLOAD_HEARTBEAT_SECONDS = 0  # beat at every progress step
    upload = Upload(owner=owner, original_name="a.txt", size=3 * 1024 * 1024)
    upload.file.save(str(upload.task_id), ContentFile(b"x" * 3 * 1024 * 1024), save=False)
    upload.save()
    beats: list[Any] = []
    real_update = services.QuerySet.update

    def spy(self: Any, **kwargs: Any) -> int:
        if set(kwargs) == {"heartbeat_at"}:
            beats.append(kwargs["heartbeat_at"])
        return real_update(self, **kwargs)

    monkeypatch.setattr(services.QuerySet, "update", spy)
    services.upload_process(upload_id=upload.id)
    assert len(beats) >= 2 and beats == sorted(beats)
