"""Runs end to end through the services: database + media, chains, restores byte-exact."""

from __future__ import annotations

import os
import shutil

import pytest

from backups import services
from backups.engine.database import dump_engine
from backups.models import BackupConfig, BackupRun
from tecnocursos.core.exceptions import ApplicationError
from tests.backups.conftest import tree_digest
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


def restore(run, target):
    return services.backup_restore(run=run, target=target)


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "zip"])
def test_full_incremental_chain_restores_each_run_byte_exact(media_tree, backup_env, tmp_path, fmt):
    config = make_config(archive_format=fmt, include_database=True)
    first = services.backup_run_now(config=config)
    assert first.status == "completed", first.error
    assert (first.kind, first.parent_id, first.db_engine) == ("full", None, services.current_db_engine())
    snapshot1 = tree_digest(media_tree)
    (media_tree / "uploads" / "data.json").write_text("changed\n")
    os.rename(media_tree / "uploads" / "video.bin", media_tree / "video-moved.bin")
    (media_tree / "uploads" / "zero.bin").unlink()
    second = services.backup_run_now(config=config)
    assert (second.kind, second.parent_id) == ("incremental", first.id)
    assert second.files_stored == 2  # the changed file and the database dump; the moved video is known
    assert second.files_deleted == 2  # zero.bin, and video.bin from its old path
    assert second.bytes_out < first.bytes_out // 10
    restore(first, tmp_path / "r1")
    restore(second, tmp_path / "r2")
    assert tree_digest(tmp_path / "r1" / "media") == snapshot1
    assert tree_digest(tmp_path / "r2" / "media") == tree_digest(media_tree)
    dumps = list((tmp_path / "r2" / "database").iterdir())
    assert len(dumps) == 1 and dump_engine(dumps[0]) == second.db_engine


def test_differential_runs_point_at_the_last_full(media_tree, backup_env, tmp_path):
    config = make_config(kind_policy="differential")
    full = services.backup_run_now(config=config)
    (media_tree / "a.txt").write_text("a")
    diff1 = services.backup_run_now(config=config)
    (media_tree / "b.txt").write_text("b")
    diff2 = services.backup_run_now(config=config)
    assert [r.kind for r in (full, diff1, diff2)] == ["full", "differential", "differential"]
    assert diff1.parent_id == diff2.parent_id == full.id
    assert diff2.files_stored == 2
    restore(diff2, tmp_path / "r")
    assert tree_digest(tmp_path / "r" / "media") == tree_digest(media_tree)


def test_full_every_n_runs_alternates(media_tree, backup_env):
    config = make_config(kind_policy="full_every_n", full_every=3, encrypted=False)
    kinds = [services.backup_run_now(config=config).kind for _ in range(7)]
    assert kinds == ["full", "incremental", "incremental", "full", "incremental", "incremental", "full"]


def test_a_requested_kind_overrides_the_policy_and_falls_back_to_full_without_a_base(media_tree, backup_env):
    config = make_config(kind_policy="full")
    assert services.backup_run_now(config=config, kind="incremental").kind == "full"
    assert services.backup_run_now(config=config, kind="differential").kind == "differential"


def test_extra_directories_are_backed_up_under_their_name(media_tree, backup_env, tmp_path):
    (backup_env["extra"] / "report.csv").write_text("a,b\n")
    config = make_config(include_media=False, extra_directories=["reports"])
    run = services.backup_run_now(config=config)
    restore(run, tmp_path / "r")
    assert (tmp_path / "r" / "extra-reports" / "report.csv").read_text() == "a,b\n"


def test_archives_are_private_and_named_by_run(media_tree, backup_env):
    run = services.backup_run_now(config=make_config())
    path = backup_env["root"].joinpath(*run.archive_name.split("/"))
    assert path.exists() and path.name.endswith(".tar.zst.enc")
    assert path.stat().st_mode & 0o777 == 0o600
    assert backup_env["root"].stat().st_mode & 0o777 == 0o700
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert run.key_id == "test-key-1"
    assert not [p for p in backup_env["root"].rglob("*") if p.name.startswith(".tmp-")]


def test_one_active_run_per_configuration(media_tree, backup_env):
    config = make_config()
    services.backup_request(config=config)
    with pytest.raises(ApplicationError) as info:
        services.backup_request(config=config)
    assert info.value.status_code == 409


def test_a_run_is_claimed_once(media_tree, backup_env):
    run = services.backup_request(config=make_config())
    assert services.runs.claim(run.id) is not None
    assert services.runs.claim(run.id) is None
    assert services.backup_execute(run_id=run.id) is None  # a duplicate delivery does nothing


def test_a_missing_source_fails_the_run_with_its_reason(backup_env, settings):
    shutil.rmtree(backup_env["extra"])
    run = services.backup_run_now(config=make_config(include_media=False, extra_directories=["reports"]))
    assert run.status == BackupRun.Status.FAILED
    assert "cannot read" in run.error and str(backup_env["extra"]) in run.error
    assert not [p for p in backup_env["root"].rglob("*") if p.is_file()]


def test_an_encrypted_run_without_any_key_fails_clearly(media_tree, backup_env, monkeypatch):
    monkeypatch.delenv("BACKUP_ENCRYPTION_KEYS")
    run = services.backup_run_now(config=make_config())
    assert run.status == "failed" and "key ring is empty" in run.error


def test_the_seeded_configurations(db):
    system = BackupConfig.objects.get(name="system")
    uploads = BackupConfig.objects.get(name="uploads")
    assert (system.include_database, system.include_media, system.kind_policy, system.keep_within_days,
            system.encrypted) == (True, True, "full", 30, False)
    assert (uploads.include_database, uploads.include_media, uploads.kind_policy, uploads.keep_within_days,
            uploads.encrypted) == (False, True, "incremental", 7, True)
    assert (system.schedule.minute, system.schedule.hour) == ("0", "2")
    assert (uploads.schedule.minute, uploads.schedule.hour) == ("0", "4")
    assert system.periodic_task.task == "backups.tasks.scheduled_backup"
    assert system.periodic_task.crontab_id == system.schedule_id
    assert system.periodic_task.args == f"[{system.id}]"
