"""Admin: configurations (run now, schedule kept in step), runs (verify, restore into a new directory)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from backups import services
from backups.models import BackupConfig, BackupRun
from tests.backups.conftest import tree_digest
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(staff) -> Client:
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def run(media_tree, backup_env):
    return services.backup_run_now(config=make_config(name="media"))


def test_changelists_and_detail_pages_render(operator, run):
    for url in ("/admin/backups/backupconfig/", "/admin/backups/backuprun/", "/admin/backups/backupmanifest/",
                f"/admin/backups/backuprun/{run.id}/change/", f"/admin/backups/backupconfig/{run.config_id}/change/",
                "/admin/backups/backupconfig/add/", f"/admin/backups/backupmanifest/{run.manifest.id}/change/"):
        assert operator.get(url).status_code == 200, url
    page = operator.get(f"/admin/backups/backuprun/{run.id}/change/").content.decode()
    assert "stored in this run: 6" in page


def test_runs_can_be_searched_and_filtered(operator, run):
    response = operator.get("/admin/backups/backuprun/", {"q": run.checksum[:12]})
    assert list(response.context["cl"].result_list) == [run]
    response = operator.get("/admin/backups/backuprun/", {"status__exact": "failed"})
    assert list(response.context["cl"].result_list) == []


def test_run_now_queues_a_run(operator, media_tree, sent_tasks, django_capture_on_commit_callbacks):
    config = BackupConfig.objects.get(name="system")
    with django_capture_on_commit_callbacks(execute=True):
        operator.post("/admin/backups/backupconfig/", {"action": "run_now", "_selected_action": [config.id]})
    run = BackupRun.objects.get(config=config)
    assert run.trigger == "admin" and run.status == "queued"
    assert [name for name, _ in sent_tasks] == ["backups.tasks.run_backup"]


def test_verify_action_queues_a_verification(operator, run, sent_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        operator.post("/admin/backups/backuprun/", {"action": "verify", "_selected_action": [run.id]})
    [(name, args)] = sent_tasks
    assert name == "backups.tasks.verify_backup" and args[0] == run.id


def test_restore_action_restores_into_a_new_directory(operator, run, media_tree, backup_env, sent_tasks,
                                                      django_capture_on_commit_callbacks):
    from realtime.models import Notification

    sent_tasks.run["backups.tasks.restore_backup"] = lambda run_id, target, user_id: services.backup_restore_to(
        run_id=run_id, target=target, user_id=user_id)
    with django_capture_on_commit_callbacks(execute=True):
        operator.post("/admin/backups/backuprun/", {"action": "restore", "_selected_action": [run.id]})
    [target] = list(backup_env["restores"].iterdir())
    assert target.name.startswith(f"run-{run.id}-")
    assert tree_digest(target / "media") == tree_digest(media_tree)
    assert Notification.objects.filter(title=f"Run {run.id} restored").exists()


def test_saving_a_config_keeps_its_periodic_task_in_step(operator):
    config = BackupConfig.objects.get(name="system")
    weekly = CrontabSchedule.objects.create(minute="30", hour="3", day_of_week="0")
    data = {
        "name": "system", "description": "", "enabled": "", "include_database": "on", "include_media": "on",
        "extra_directories": "[]", "schedule": weekly.id, "kind_policy": "full", "full_every": 7,
        "archive_format": "tar.zst", "compression_level": "", "destination": "local",
        "keep_last": 0, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0, "keep_within_days": 30,
        "pre_hooks": "[]", "post_hooks": "[]",
    }
    response = operator.post(f"/admin/backups/backupconfig/{config.id}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    task = PeriodicTask.objects.get(name="backups: system")
    assert task.crontab_id == weekly.id and task.enabled is False


def test_a_config_with_unknown_hooks_or_no_source_is_refused(operator):
    data = {"name": "bad", "extra_directories": '["nope"]', "kind_policy": "full", "full_every": 7,
            "archive_format": "zip", "compression_level": 15, "destination": "local", "keep_last": 0,
            "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0, "keep_within_days": 0,
            "pre_hooks": '["x"]', "post_hooks": "[]"}
    response = operator.post("/admin/backups/backupconfig/add/", data)
    errors = response.context["adminform"].form.errors
    assert {"extra_directories", "pre_hooks", "compression_level"} <= set(errors)
    assert not BackupConfig.objects.filter(name="bad").exists()
