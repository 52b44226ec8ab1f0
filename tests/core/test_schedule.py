from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from tecnocursos.schedule import PERIODIC_TASKS, Periodic, schedule_sync

pytestmark = pytest.mark.django_db


def test_migrate_declares_every_periodic_task():
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {p.name for p in PERIODIC_TASKS} <= names


def test_it_keeps_an_operators_edits():
    task = PeriodicTask.objects.get(name=PERIODIC_TASKS[0].name)
    task.enabled = False
    task.save()
    assert schedule_sync() == 0
    assert PeriodicTask.objects.get(name=PERIODIC_TASKS[0].name).enabled is False


def test_it_follows_a_task_that_moved():
    moved = Periodic(name=PERIODIC_TASKS[0].name, task="somewhere.else", every_seconds=1)
    schedule_sync([moved])
    assert PeriodicTask.objects.get(name=moved.name).task == "somewhere.else"


def test_every_declared_task_is_registered_with_celery():
    from tecnocursos.celery import app

    app.loader.import_default_modules()
    assert {p.task for p in PERIODIC_TASKS} <= set(app.tasks)
