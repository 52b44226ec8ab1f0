"""The Celery app `tecnocursos`: reads CELERY_* settings, autodiscovers tasks.py."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tecnocursos.settings")

app = Celery("tecnocursos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
