"""A Celery worker SIGKILLed in the middle of an upload: the upload is not stuck. Its heartbeat
stops, the sweep puts it back in the queue, another worker finishes it, once.

Real worker processes on the real broker and database; the first one is slowed down (a shim
makes its file inspection sleep) so that it is surely killed mid-job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from tecnocursos.core import services
from tecnocursos.core.models import Upload
from tests.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Run as `python -c SHIM`: the worker, with file inspection made slow when SLOW_INSPECT is set.
SHIM = """
import os, sys, time
import django
django.setup()
from tecnocursos.core import filetypes
if os.environ.get("SLOW_INSPECT"):
    real = filetypes.inspect
    def slow(stream, **kwargs):
        time.sleep(float(os.environ["SLOW_INSPECT"]))
        return real(stream, **kwargs)
    filetypes.inspect = slow
from tecnocursos.celery import app
app.worker_main(["worker", "--pool", "solo", "--loglevel", "WARNING", "--without-heartbeat",
                 "--without-gossip", "--without-mingle", "-n", sys.argv[1]])
"""


PREFIX = f"{settings.REDIS_PREFIX}-killed"


def private_broker() -> Celery:
    """A client of the workers' broker (the suite's own broker has an in-process worker on it)."""
    broker = Celery("killed", broker=settings.CELERY_BROKER_URL, set_as_current=False)  # shared_task keeps ours
    broker.conf.broker_transport_options = {"global_keyprefix": f"{PREFIX}:celery:"}
    return broker


def worker(name: str, tmp_path: Path, slow: float = 0) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tecnocursos.settings",
        "DATABASE_URL": database_url(tmp_path),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_PREFIX": PREFIX,  # a broker of their own: the suite's in-process worker must not take the job
        "SECRET_KEY": settings.SECRET_KEY,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "TECNOCURSOS_VAR_DIR": str(tmp_path),
        "UPLOAD_HEARTBEAT_SECONDS": "0.5",
        **({"SLOW_INSPECT": str(slow)} if slow else {}),
    }
    return subprocess.Popen([sys.executable, "-c", SHIM, f"{name}@test"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a worker process needs the database server")
def test_an_upload_whose_worker_was_killed_is_finished_by_another_worker(owner, settings, tmp_path, sent_tasks):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_STALE_SECONDS = 2
    broker = private_broker()
    broker.control.purge()
    # What the outbox sends goes to the workers' broker.
    sent_tasks.run[services.PROCESS_UPLOAD] = lambda upload_id: broker.send_task(services.PROCESS_UPLOAD, [upload_id])
    upload = services.upload_create(owner=owner, file=SimpleUploadedFile("lesson.txt", b"hello world"))
    first = worker("doomed", tmp_path, slow=60)
    try:
        wait_for(lambda: Upload.objects.get(id=upload.id).status == "processing", 60, "the first worker's claim")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    time.sleep(settings.UPLOAD_STALE_SECONDS + 0.5)  # its heartbeat is now stale
    assert services.upload_requeue_stale() == {"requeued": 1, "failed": 0, "resent": 0}
    second = worker("rescuer", tmp_path)
    try:
        wait_for(lambda: Upload.objects.get(id=upload.id).status == "done", 60, "the second worker")
    finally:
        second.terminate()
        second.wait(timeout=20)
    upload.refresh_from_db()
    assert upload.attempts == 2 and upload.checksum  # finished once, by the second claim
