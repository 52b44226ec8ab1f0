"""The S3 destination against a real S3 API (moto in server mode on loopback)."""

from __future__ import annotations

import os

import pytest

from backups import services
from backups.engine.destinations import S3Destination
from tests.backups.conftest import tree_digest
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


def objects(client, prefix="prod/"):
    return [o["Key"] for o in client.list_objects_v2(Bucket="tc-backups", Prefix=prefix).get("Contents", [])]


def test_a_chain_on_s3_restores_byte_exact_and_verifies(s3_env, media_tree, backup_env, tmp_path):
    (media_tree / "big.bin").write_bytes(os.urandom(11 * 1024 * 1024))  # three multipart parts
    config = make_config(destination="s3", encrypted=True)
    full = services.backup_run_now(config=config)
    assert full.status == "completed", full.error
    snapshot = tree_digest(media_tree)
    (media_tree / "uploads" / "data.json").write_text("changed on s3\n")
    incremental = services.backup_run_now(config=config)
    assert incremental.kind == "incremental" and incremental.files_stored == 1
    assert sorted(objects(s3_env)) == sorted(f"prod/{r.archive_name}" for r in (full, incremental))
    head = s3_env.head_object(Bucket="tc-backups", Key=f"prod/{full.archive_name}")
    assert head["ContentLength"] == full.bytes_out
    assert services.backup_verify(run=incremental).ok
    services.backup_restore(run=full, target=tmp_path / "r1")
    services.backup_restore(run=incremental, target=tmp_path / "r2")
    assert tree_digest(tmp_path / "r1" / "media") == snapshot
    assert tree_digest(tmp_path / "r2" / "media") == tree_digest(media_tree)


def test_tampering_on_s3_is_detected(s3_env, media_tree, tmp_path):
    run = services.backup_run_now(config=make_config(destination="s3"))
    key = f"prod/{run.archive_name}"
    blob = bytearray(s3_env.get_object(Bucket="tc-backups", Key=key)["Body"].read())
    blob[len(blob) // 2] ^= 1
    s3_env.put_object(Bucket="tc-backups", Key=key, Body=bytes(blob))
    assert not services.backup_verify(run=run).ok


def test_an_aborted_upload_leaves_no_object(s3_env):
    destination = S3Destination(s3_env, "tc-backups", "prod", part_size=5 * 1024 * 1024)
    writer = destination.writer("x/archive.tar.zst")
    writer.write(os.urandom(6 * 1024 * 1024))  # one part sent already
    assert objects(s3_env) == []  # nothing visible before completion
    assert s3_env.list_multipart_uploads(Bucket="tc-backups").get("Uploads")
    destination.discard_temp(writer.temp_ref)
    assert not s3_env.list_multipart_uploads(Bucket="tc-backups").get("Uploads")
    assert objects(s3_env) == []


def test_a_failed_s3_run_aborts_its_upload(s3_env, media_tree, monkeypatch):
    from backups.engine import pipeline

    def explode(*args, **kwargs):
        raise OSError("source vanished")

    monkeypatch.setattr(pipeline.archive, "copy_hashed", explode)
    run = services.backup_run_now(config=make_config(destination="s3"))
    assert run.status == "failed"
    assert objects(s3_env) == []
    assert not s3_env.list_multipart_uploads(Bucket="tc-backups").get("Uploads")


def test_prune_deletes_s3_objects(s3_env, media_tree):
    config = make_config(destination="s3", kind_policy="full", keep_last=1)
    old = services.backup_run_now(config=config)
    new = services.backup_run_now(config=config)
    services.backup_prune(config=config)
    assert objects(s3_env) == [f"prod/{new.archive_name}"]
    assert old.archive_name not in "".join(objects(s3_env))


def test_s3_without_a_bucket_is_a_clear_failure(media_tree, backup_env):
    run = services.backup_run_now(config=make_config(destination="s3"))
    assert run.status == "failed" and "BACKUP_S3_BUCKET" in run.error
