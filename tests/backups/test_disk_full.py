"""The disk fills up during a backup: the run fails cleanly (status failed, the reason recorded,
no partial archive under a final name) and the older backups stay intact and verifiable.

BACKUP_ROOT is a real, small filesystem (a tmpfs mounted by the test), so the failure is the
kernel's ENOSPC, not a simulation. Mounting needs root; elsewhere the test is skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from backups import services
from backups.models import BackupRun
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_full_disk_fails_the_run_cleanly_and_keeps_older_backups(backup_env, small_disk, settings):
    settings.BACKUP_ROOT = small_disk / "backups"
    media = backup_env["media"]
    (media / "notes.txt").write_text("lecture notes\n" * 1000)
    config = make_config(name="tight", archive_format="tar.zst", encrypted=True, kind_policy="full")
    first = services.backup_run_now(config=config, kind="full")
    assert first.status == BackupRun.Status.COMPLETED
    kept = {p: p.read_bytes() for p in files_under(settings.BACKUP_ROOT)}

    (media / "video.bin").write_bytes(os.urandom(12 * 1024 * 1024))  # incompressible, twice the disk
    second = services.backup_run_now(config=config, kind="full")

    second.refresh_from_db()
    assert second.status == BackupRun.Status.FAILED
    assert "No space left on device" in second.error or "ENOSPC" in second.error
    # Nothing half-written is left, under a final name or a temporary one; the first run's files are untouched.
    assert {p: p.read_bytes() for p in files_under(settings.BACKUP_ROOT)} == kept
    assert services.backup_verify(run=BackupRun.objects.get(id=first.id)).ok
