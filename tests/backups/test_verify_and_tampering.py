"""Verify catches every kind of damage to a stored archive; restore refuses it and writes nothing."""

from __future__ import annotations

import io

import pytest

from backups import services
from backups.engine.crypto import NONCE_SIZE, TAG_SIZE, CryptoError, read_header
from backups.engine.pipeline import IntegrityError
from backups.models import BackupRun
from realtime.models import Notification
from tecnocursos.core.exceptions import ApplicationError
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


def archive_path(run, backup_env):
    return backup_env["root"].joinpath(*run.archive_name.split("/"))


def records(blob: bytes, chunk: int) -> tuple[bytes, list[bytes]]:
    _, raw = read_header(io.BytesIO(blob))
    size = NONCE_SIZE + chunk + TAG_SIZE
    body = blob[len(raw):]
    return raw, [body[i:i + size] for i in range(0, len(body), size)]


def flip(blob: bytes, chunk: int) -> bytes:
    damaged = bytearray(blob)
    damaged[len(blob) // 2] ^= 0x40
    return bytes(damaged)


def truncate(blob: bytes, chunk: int) -> bytes:
    return blob[: len(blob) - 1000]


def append_chunk(blob: bytes, chunk: int) -> bytes:
    _, recs = records(blob, chunk)
    return blob + recs[1]


def swap_chunks(blob: bytes, chunk: int) -> bytes:
    header, recs = records(blob, chunk)
    recs[1], recs[2] = recs[2], recs[1]
    return header + b"".join(recs)


@pytest.fixture
def run(media_tree, backup_env):
    done = services.backup_run_now(config=make_config(encrypted=True))
    assert done.status == "completed"
    return done


def test_an_intact_run_verifies(run, staff):
    outcome = services.backup_verify(run=run)
    assert outcome.ok, outcome.problems
    run.refresh_from_db()
    assert run.verify_ok is True and run.verified_at is not None


@pytest.mark.parametrize("damage", [flip, truncate, append_chunk, swap_chunks])
def test_damage_is_detected_by_verify_and_refused_by_restore(run, backup_env, staff, tmp_path, damage, settings):
    path = archive_path(run, backup_env)
    path.write_bytes(damage(path.read_bytes(), settings.BACKUP_CHUNK_BYTES))
    outcome = services.backup_verify(run=run)
    assert not outcome.ok
    run.refresh_from_db()
    assert run.verify_ok is False and run.verify_error
    assert Notification.objects.filter(user=staff, level="error", title__contains="failed verification").exists()
    target = tmp_path / "restore"
    with pytest.raises((CryptoError, IntegrityError)) as info:
        services.backup_restore(run=run, target=target)
    assert "authentication failed" in str(info.value) or "SHA-256" in str(info.value)
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".restore-")]


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "zip"])
def test_unencrypted_damage_is_caught_by_the_checksum(media_tree, backup_env, fmt):
    done = services.backup_run_now(config=make_config(encrypted=False, archive_format=fmt))
    path = archive_path(done, backup_env)
    blob = bytearray(path.read_bytes())
    blob[-200] ^= 0x01
    path.write_bytes(bytes(blob))
    outcome = services.backup_verify(run=done)
    assert not outcome.ok


def test_a_missing_archive_is_reported(run, backup_env):
    archive_path(run, backup_env).unlink()
    outcome = services.backup_verify(run=run)
    assert not outcome.ok and "missing" in outcome.problems[0]


def test_verify_follows_the_chain(run, media_tree, backup_env):
    (media_tree / "later.txt").write_text("later")
    child = services.backup_run_now(config=run.config)
    assert child.parent_id == run.id
    assert services.backup_verify(run=child).archives == 2
    path = archive_path(run, backup_env)
    path.write_bytes(flip(path.read_bytes(), 0))
    outcome = services.backup_verify(run=child)
    assert not outcome.ok and outcome.problems[0].startswith(f"run {run.id}:")


def test_only_completed_runs_are_verified(media_tree, backup_env):
    queued = services.backup_request(config=make_config())
    with pytest.raises(ApplicationError) as info:
        services.backup_verify(run=queued)
    assert info.value.status_code == 409


def test_the_periodic_check_verifies_the_newest_run_of_each_config(run):
    assert services.backup_verify_latest() == {run.config.name: True}
    assert BackupRun.objects.get(id=run.id).verify_ok is True
