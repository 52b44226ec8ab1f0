"""Pre/post hooks from settings, signals around every run, notifications and progress."""

from __future__ import annotations

from unittest import mock

import pytest

from backups import services
from backups.models import BackupRun
from backups.signals import backup_finished, backup_started
from realtime.models import Notification
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db

CALLS: list[tuple[str, int, str]] = []


def record_pre(*, run):
    CALLS.append(("pre", run.id, run.status))


def record_post(*, run):
    CALLS.append(("post", run.id, run.status))


def failing_pre(*, run):
    raise RuntimeError("queue flush timed out")


def failing_post(*, run):
    raise RuntimeError("upload of the report failed")


@pytest.fixture
def hooks(settings, backup_env):
    CALLS.clear()
    settings.BACKUP_HOOKS = {name: f"{__name__}.{name}" for name in
                             ("record_pre", "record_post", "failing_pre", "failing_post")}


def test_hooks_run_before_and_after(hooks, media_tree):
    run = services.backup_run_now(config=make_config(pre_hooks=["record_pre"], post_hooks=["record_post"]))
    assert CALLS == [("pre", run.id, "running"), ("post", run.id, "completed")]


def test_a_failing_pre_hook_aborts_the_run_with_its_error(hooks, media_tree, backup_env):
    run = services.backup_run_now(config=make_config(pre_hooks=["failing_pre"], post_hooks=["record_post"]))
    assert run.status == BackupRun.Status.FAILED
    assert "pre-hook 'failing_pre' failed: RuntimeError: queue flush timed out" in run.error
    assert CALLS == [("post", run.id, "failed")]
    assert not [p for p in backup_env["root"].rglob("*") if p.is_file()]


def test_a_failing_post_hook_is_recorded_but_the_backup_stands(hooks, media_tree):
    run = services.backup_run_now(config=make_config(post_hooks=["failing_post"]))
    assert run.status == BackupRun.Status.COMPLETED
    assert "post-hook 'failing_post' failed" in run.error


def test_signals_announce_start_and_finish(media_tree):
    started, finished = mock.Mock(), mock.Mock()
    backup_started.connect(started)
    backup_finished.connect(finished)
    try:
        run = services.backup_run_now(config=make_config())
    finally:
        backup_started.disconnect(started)
        backup_finished.disconnect(finished)
    assert started.call_args.kwargs["run"].id == run.id
    assert finished.call_args.kwargs["run"].id == run.id and finished.call_args.kwargs["ok"] is True


def test_the_requester_is_notified_and_staff_hear_of_failures(media_tree, owner, staff, backup_env, settings):
    config = make_config()
    ok = services.backup_run_now(config=config, user=staff)
    assert Notification.objects.filter(user=staff, level="success", message__contains=f"Backup {ok.id}").exists()
    settings.BACKUP_EXTRA_DIRECTORIES = {}
    config.extra_directories = ["gone"]
    config.save()
    failed = services.backup_run_now(config=config, user=None)
    assert failed.status == "failed"
    assert Notification.objects.filter(user=staff, level="error", title__contains="failed").exists()
    assert not Notification.objects.filter(user=owner).exists()


def test_progress_events_reach_the_requester(media_tree, staff, django_capture_on_commit_callbacks):
    with mock.patch("backups.services.common.progress_report") as report:
        run = services.backup_run_now(config=make_config(), user=staff)
    events = [c.kwargs for c in report.call_args_list]
    assert {e["task_id"] for e in events} == {str(run.task_id)}
    assert {e["user_id"] for e in events} == {staff.id}
    progress = [e["progress"] for e in events]
    assert progress[0] == 0 and progress[-1] == 100 and progress == sorted(progress)
    assert events[-1]["status"] == "done"
    assert len(progress) == len(set(progress))  # one event per percent, not per block
