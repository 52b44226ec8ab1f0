"""Each configuration's crontab task, and what beat's call does."""

from __future__ import annotations

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from backups import services
from backups.models import BackupRun
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


def test_a_schedule_creates_updates_and_removes_the_periodic_task(backup_env):
    nightly = CrontabSchedule.objects.create(minute="15", hour="1")
    config = make_config(schedule=nightly)
    services.config_sync_schedule(config=config)
    task = PeriodicTask.objects.get(name=f"backups: {config.name}")
    assert (task.task, task.crontab_id, task.args, task.enabled) == (
        "backups.tasks.scheduled_backup", nightly.id, f"[{config.id}]", True)
    config.enabled = False
    services.config_sync_schedule(config=config)
    assert PeriodicTask.objects.get(id=task.id).enabled is False
    config.schedule = None
    services.config_sync_schedule(config=config)
    assert not PeriodicTask.objects.filter(id=task.id).exists()
    config.refresh_from_db()
    assert config.periodic_task is None


def test_beat_runs_an_enabled_config_and_skips_a_disabled_or_busy_one(media_tree):
    config = make_config()
    run = services.backup_scheduled(config_id=config.id)
    assert run is not None and (run.status, run.trigger) == ("completed", "schedule")
    services.backup_request(config=config)  # one queued already
    assert services.backup_scheduled(config_id=config.id) is None
    config.enabled = False
    config.save()
    assert services.backup_scheduled(config_id=config.id) is None
    assert BackupRun.objects.filter(config=config).count() == 2


def test_the_periodic_tasks_are_declared_and_registered():
    from tecnocursos.celery import app
    from tecnocursos.schedule import PERIODIC_TASKS

    app.loader.import_default_modules()
    ours = {p.task for p in PERIODIC_TASKS if p.task.startswith("backups.")}
    assert ours == {"backups.tasks.fail_stale_backups", "backups.tasks.verify_latest_backups",
                    "backups.tasks.prune_backups"}
    assert ours | {"backups.tasks.scheduled_backup", "backups.tasks.run_backup", "backups.tasks.verify_backup",
                   "backups.tasks.restore_backup"} <= set(app.tasks)
