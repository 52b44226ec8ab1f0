"""The Celery app `tecnocursos`: reads CELERY_* settings, autodiscovers tasks.py."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tecnocursos.settings")

app = Celery("tecnocursos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _prepare_celery_process(**kwargs: Any) -> None:
    # Before the process connects to the broker: a worker or beat started on its own finds
    # the embedded Redis (started, or reused from the stack that runs it).
    from tecnocursos.bootstrap import prepare_process

    prepare_process()
