"""A run killed mid-way leaves no completed record and no final file; the sweep cleans up."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from backups import services
from backups.apps import _fail_stale_runs
from backups.models import BackupRun
from tests.backups.helpers import make_config

ROOT = Path(__file__).resolve().parents[2]
WORDS = [f"word{i}" for i in range(5000)]


def big_text_tree(root: Path, files: int = 12, size: int = 4 * 1024 * 1024) -> None:
    """Text gzip -9 compresses slowly enough (a few seconds) to be killed mid-way."""
    rng = random.Random(1)
    text = " ".join(rng.choices(WORDS, k=1024 * 1024 // 8)).encode()
    for i in range(files):
        offset = i * 7919 % len(text)
        data = (text[offset:] + text) * (size // len(text) + 1)
        (root / f"doc-{i}.txt").write_bytes(data[:size])


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".tmp-*") if p.is_file()]


def final_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp-") and ".scratch" not in p.parts]


@pytest.mark.django_db(transaction=True)
def test_a_backup_killed_with_sigkill_leaves_no_completed_run(backup_env):
    if connection.vendor != "postgresql":
        pytest.skip("the child process needs a database it can share: run with DATABASE_URL=postgres://...")
    big_text_tree(backup_env["media"])
    config = make_config(name="crashy", archive_format="tar.gz", compression_level=9, encrypted=True)
    conf = connection.settings_dict
    env = {**os.environ, "BACKUP_ROOT": str(backup_env["root"]), "MEDIA_ROOT": str(backup_env["media"]),
           "BACKUP_KEY_FILE": str(backup_env["root"].parent / "keys"), "BACKUP_CHUNK_BYTES": "65536",
           "DATABASE_URL": f"postgres://{conf['USER']}:{conf['PASSWORD'] or ''}@{conf['HOST'] or '127.0.0.1'}:"
                           f"{conf['PORT'] or 5432}/{conf['NAME']}"}
    child = subprocess.Popen([sys.executable, "manage.py", "backup", "run", "crashy", "--no-progress"], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        partial = temp_files(backup_env["root"])
        if partial and partial[0].stat().st_size > 256 * 1024:
            break
        time.sleep(0.02)
    assert child.poll() is None, child.communicate()
    child.send_signal(signal.SIGKILL)
    child.wait()
    run = BackupRun.objects.get(config=config)
    assert run.status == BackupRun.Status.RUNNING  # nobody could mark it completed
    assert final_files(backup_env["root"]) == []
    assert temp_files(backup_env["root"])
    assert run.temp_ref and run.worker.endswith(f":{child.pid}")

    _fail_stale_runs()  # what a worker does when it starts
    run.refresh_from_db()
    assert run.status == BackupRun.Status.FAILED and "died" in run.error
    assert temp_files(backup_env["root"]) == []
    assert final_files(backup_env["root"]) == []
    assert services.runs.create_run(config=config, user=None, trigger="command", kind=None).status == "queued"


@pytest.fixture
def running(media_tree, db):
    def make(**fields):
        run = services.backup_request(config=make_config(name=f"c{BackupRun.objects.count()}"))
        BackupRun.objects.filter(id=run.id).update(status="running", started_at=timezone.now(), **fields)
        return BackupRun.objects.get(id=run.id)

    return make


def test_a_run_whose_heartbeat_stopped_is_failed(running):
    old = timezone.now() - timedelta(hours=1)
    dead = running(worker="elsewhere:1", heartbeat_at=old)
    alive = running(worker="elsewhere:2", heartbeat_at=timezone.now())
    assert services.backup_fail_stale() == [dead.id]
    assert BackupRun.objects.get(id=alive.id).status == "running"


def test_the_sweep_never_deletes_an_archive_under_its_final_name(running, backup_env):
    # Renamed whole just before the process died, or the run's own archive seen from a
    # database snapshot taken while it ran: complete either way, so it stays.
    final = backup_env["root"] / "c0" / "20260101T000000Z-1-full.tar.zst.enc"
    final.parent.mkdir(parents=True)
    final.write_bytes(b"complete but never recorded")
    run = running(worker="elsewhere:1", heartbeat_at=timezone.now() - timedelta(hours=1),
                  archive_name="c0/20260101T000000Z-1-full.tar.zst.enc")
    services.backup_fail_stale()
    assert BackupRun.objects.get(id=run.id).status == "failed"
    assert final.exists()


def test_a_queued_run_nobody_picked_up_is_failed_in_time(media_tree, db):
    run = services.backup_request(config=make_config())
    BackupRun.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(days=1))
    assert services.backup_fail_stale() == [run.id]


def test_orphan_temporary_files_are_swept(backup_env, db, settings):
    (backup_env["root"] / "x").mkdir(parents=True)
    orphan = backup_env["root"] / "x" / ".tmp-old-archive-1234"
    orphan.write_bytes(b"partial")
    past = time.time() - settings.BACKUP_STALE_SECONDS - 60
    os.utime(orphan, (past, past))
    fresh = backup_env["root"] / "x" / ".tmp-being-written-5678"
    fresh.write_bytes(b"partial")
    services.backup_fail_stale()
    assert not orphan.exists() and fresh.exists()


def test_a_failed_write_leaves_no_temporary_file(media_tree, backup_env, monkeypatch, db):
    from backups.engine import pipeline

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pipeline.archive, "copy_hashed", explode)
    run = services.backup_run_now(config=make_config())
    assert run.status == "failed" and "disk full" in run.error
    assert temp_files(backup_env["root"]) == [] and final_files(backup_env["root"]) == []


@pytest.mark.django_db(transaction=True)
def test_a_long_silent_step_keeps_its_heartbeat(media_tree, monkeypatch):
    from backups.services import common

    monkeypatch.setattr(common, "HEARTBEAT_SECONDS", 0.05)
    seen = []

    def slow_hook(*, run):
        before = BackupRun.objects.get(id=run.id).heartbeat_at
        time.sleep(0.4)  # a quiet pg_dump, a slow hook
        seen.append(BackupRun.objects.get(id=run.id).heartbeat_at > before)

    from django.test import override_settings

    with override_settings(BACKUP_HOOKS={"slow": f"{__name__}.hook_target"}):
        globals()["hook_target"] = slow_hook
        run = services.backup_run_now(config=make_config(pre_hooks=["slow"]))
    assert run.status == "completed" and seen == [True]


def test_a_run_failed_while_it_ran_is_not_completed_afterwards(media_tree, backup_env, monkeypatch, db):
    from backups.services import runs

    real = runs.write_backup

    def failed_meanwhile(spec, sink, **kwargs):
        result = real(spec, sink, **kwargs)
        BackupRun.objects.filter(id=spec.run_id).update(status="failed", error="failed by the sweep")
        return result

    monkeypatch.setattr(runs, "write_backup", failed_meanwhile)
    run = services.backup_run_now(config=make_config())
    assert run.status == "failed"
    assert final_files(backup_env["root"]) == []
