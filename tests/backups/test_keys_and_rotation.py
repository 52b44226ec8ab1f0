"""The key ring from the environment and the key file; rotation keeps old runs readable."""

from __future__ import annotations

import pytest

from backups import keys, services
from backups.engine.crypto import KeyRingError, generate_key
from tests.backups.conftest import tree_digest
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


def test_the_ring_is_the_environment_keys_then_the_file_keys(backup_env, monkeypatch):
    assert keys.key_ring().ids == ["test-key-1"]
    added = keys.key_add()
    ring = keys.key_ring()
    assert ring.ids == ["test-key-1", added.id]
    assert ring.current.id == added.id
    key_file = backup_env["root"].parent / "keys" / "backup-keys"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_key_file_readable_by_others_is_refused(backup_env):
    keys.key_add()
    key_file = backup_env["root"].parent / "keys" / "backup-keys"
    key_file.chmod(0o644)
    with pytest.raises(KeyRingError, match="chmod 600"):
        keys.key_ring()


def test_an_old_key_restores_after_rotation(media_tree, backup_env, tmp_path):
    config = make_config()
    old = services.backup_run_now(config=config)
    new_key, reencrypted = services.key_rotate()
    assert reencrypted == []
    (media_tree / "after-rotation.txt").write_text("new")
    newer = services.backup_run_now(config=config)
    assert (old.key_id, newer.key_id) == ("test-key-1", new_key.id)
    services.backup_restore(run=newer, target=tmp_path / "r")  # reads both keys' archives
    assert tree_digest(tmp_path / "r" / "media") == tree_digest(media_tree)
    assert services.backup_verify(run=old).ok


def test_reencrypt_rewrites_old_runs_under_the_new_key(media_tree, backup_env, tmp_path, monkeypatch):
    config = make_config()
    run = services.backup_run_now(config=config)
    old_name, old_sum = run.archive_name, run.checksum
    new_key, reencrypted = services.key_rotate(reencrypt=True)
    run.refresh_from_db()
    assert reencrypted == [run.id]
    assert run.key_id == new_key.id and run.archive_name != old_name and run.checksum != old_sum
    assert not backup_env["root"].joinpath(*old_name.split("/")).exists()
    monkeypatch.delenv("BACKUP_ENCRYPTION_KEYS")  # the old key is gone: the run must not need it
    assert services.backup_verify(run=run).ok
    services.backup_restore(run=run, target=tmp_path / "r")
    assert tree_digest(tmp_path / "r" / "media") == tree_digest(media_tree)


def test_a_wrong_key_gives_a_clear_error(media_tree, backup_env, monkeypatch, tmp_path):
    run = services.backup_run_now(config=make_config())
    impostor = generate_key("test-key-1")  # same id, other material
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEYS", impostor.encoded())
    outcome = services.backup_verify(run=run)
    assert not outcome.ok and "the key is wrong" in outcome.problems[0]
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEYS", generate_key("other").encoded())
    with pytest.raises(KeyRingError, match="no key 'test-key-1'"):
        services.backup_restore(run=run, target=tmp_path / "r")
    assert not (tmp_path / "r").exists()
