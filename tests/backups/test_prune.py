"""Retention applied to real runs: dependencies survive, archives go with their records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backups import services
from backups.models import BackupRun
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


def aged(run, days):
    when = timezone.now() - timedelta(days=days)
    BackupRun.objects.filter(id=run.id).update(created_at=when, finished_at=when)
    return run


def archive(run, backup_env):
    return backup_env["root"].joinpath(*run.archive_name.split("/"))


def test_prune_keeps_the_chain_of_kept_incrementals(media_tree, backup_env):
    config = make_config(kind_policy="full_every_n", full_every=3, keep_last=1)
    runs = []
    for day in range(5, 0, -1):
        (media_tree / f"day-{day}.txt").write_text(str(day))
        runs.append(aged(services.backup_run_now(config=config), day))
    assert [r.kind for r in runs] == ["full", "incremental", "incremental", "full", "incremental"]
    [outcome] = services.backup_prune(config=config)
    assert [r.id for r in outcome.removed] == [runs[2].id, runs[1].id, runs[0].id]
    assert set(BackupRun.objects.values_list("id", flat=True)) == {runs[3].id, runs[4].id}
    assert not archive(runs[0], backup_env).exists() and archive(runs[3], backup_env).exists()
    assert services.backup_verify(run=runs[4]).ok


def test_an_empty_policy_prunes_nothing(media_tree, backup_env):
    config = make_config(kind_policy="full")
    runs = [aged(services.backup_run_now(config=config), d) for d in (300, 200, 100)]
    [outcome] = services.backup_prune(config=config)
    assert outcome.removed == [] and BackupRun.objects.count() == len(runs)


def test_the_parent_of_a_run_in_progress_is_kept(media_tree, backup_env):
    config = make_config(keep_last=1)
    base = aged(services.backup_run_now(config=config), 3)
    latest = services.backup_run_now(config=config)
    assert latest.parent_id == base.id
    BackupRun.objects.filter(id=latest.id).update(status="running")
    [outcome] = services.backup_prune(config=config)
    assert outcome.removed == []


def test_dry_run_deletes_nothing(media_tree, backup_env):
    config = make_config(kind_policy="full", keep_last=1)
    old = aged(services.backup_run_now(config=config), 2)
    services.backup_run_now(config=config)
    [outcome] = services.backup_prune(config=config, dry_run=True)
    assert [r.id for r in outcome.removed] == [old.id]
    assert BackupRun.objects.filter(id=old.id).exists() and archive(old, backup_env).exists()


def test_old_failed_runs_are_cleared(media_tree, backup_env, settings):
    config = make_config(extra_directories=["missing"])
    failed = services.backup_run_now(config=config)
    assert failed.status == "failed"
    aged(failed, settings.BACKUP_FAILED_RUNS_KEEP_DAYS + 1)
    BackupRun.objects.filter(id=failed.id).update(created_at=timezone.now() - timedelta(days=400))
    services.backup_prune(config=config)
    assert not BackupRun.objects.filter(id=failed.id).exists()


def test_a_run_another_run_points_at_is_never_deleted(media_tree, backup_env):
    from backups.services.retention import _delete_run
    from tecnocursos.core.exceptions import ApplicationError

    config = make_config()
    base = services.backup_run_now(config=config)
    services.backup_run_now(config=config)
    with pytest.raises(ApplicationError, match="still needed"):
        _delete_run(base)
    assert BackupRun.objects.filter(id=base.id).exists() and archive(base, backup_env).exists()
