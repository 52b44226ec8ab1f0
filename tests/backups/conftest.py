"""Backup fixtures: a private BACKUP_ROOT / MEDIA_ROOT / key ring per test, and trees to back up."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backups.engine import database as db
from backups.engine.crypto import generate_key

KEY_ENV = "BACKUP_ENCRYPTION_KEYS"


@pytest.fixture
def backup_env(settings, tmp_path, monkeypatch) -> dict[str, Path]:
    """Settings pointing every backup path into tmp_path, and a one-key ring in the environment."""
    paths = {name: tmp_path / name for name in ("root", "media", "restores", "extra")}
    for name, path in paths.items():
        if name != "root":  # the app creates its own root, private
            path.mkdir()
    settings.BACKUP_ROOT = paths["root"]
    settings.MEDIA_ROOT = paths["media"]
    settings.BACKUP_RESTORE_ROOT = paths["restores"]
    settings.BACKUP_KEY_FILE = tmp_path / "keys" / "backup-keys"
    settings.BACKUP_EXTRA_DIRECTORIES = {"reports": str(paths["extra"])}
    settings.BACKUP_HOOKS = {}
    settings.BACKUP_S3_BUCKET = ""
    settings.BACKUP_CHUNK_BYTES = 64 * 1024  # several chunks even for small trees
    monkeypatch.setenv(KEY_ENV, generate_key("test-key-1").encoded())
    return paths


def write_tree(root: Path) -> None:
    """Nested dirs, empty files and dirs, unicode names, a 0-byte and a multi-MB file."""
    (root / "uploads" / "2026" / "11").mkdir(parents=True, exist_ok=True)
    (root / "empty-dir").mkdir(exist_ok=True)
    (root / "uploads" / "2026" / "11" / "notes.txt").write_text("lecture notes\n" * 200)
    (root / "uploads" / "zero.bin").write_bytes(b"")
    (root / "uploads" / "ünïcødé – 課程.md").write_text("# título\n")
    (root / "uploads" / "video.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "uploads" / "data.json").write_text('{"a": 1}\n' * 5000)
    (root / "uploads" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "uploads" / "run.sh").chmod(0o750)
    os.symlink("2026/11/notes.txt", root / "uploads" / "latest-notes")


def tree_digest(root: Path) -> dict[str, Any]:
    """Everything a restore must reproduce: content, mode, mtime, link targets, empty dirs."""
    result: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            if path.is_symlink():
                result[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                result[rel] = ("dir", st.st_mode & 0o777)
            else:
                result[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mode & 0o777,
                               st.st_mtime_ns)
    return result


@pytest.fixture
def media_tree(backup_env) -> Path:
    write_tree(backup_env["media"])
    return backup_env["media"]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real S3 API (moto in server mode) on a random loopback port, for the session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(backup_env, moto_server, settings, monkeypatch) -> Any:
    import boto3
    import requests

    from backups import storage

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.BACKUP_S3_BUCKET = "tc-backups"
    settings.BACKUP_S3_ENDPOINT_URL = moto_server
    settings.BACKUP_S3_REGION = "us-east-1"
    settings.BACKUP_S3_PREFIX = "prod"
    settings.BACKUP_S3_PART_BYTES = 5 * 1024 * 1024
    storage._s3_client.cache_clear()
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()  # empty S3 per test
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    client.create_bucket(Bucket="tc-backups")
    yield client
    storage._s3_client.cache_clear()


@pytest.fixture
def scratch_pg():
    """A throwaway PostgreSQL database on the server of DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or shutil.which("pg_dump") is None:
        pytest.skip("needs DATABASE_URL=postgres://... and the PostgreSQL client")
    import environ
    import psycopg

    conf = environ.Env.db_url_config(url)
    params = db.PgParams(name=f"bk_scratch_{uuid.uuid4().hex[:10]}", host=conf["HOST"], port=str(conf["PORT"]),
                         user=conf["USER"], password=conf["PASSWORD"])
    admin = dict(host=conf["HOST"], port=conf["PORT"], user=conf["USER"], password=conf["PASSWORD"] or None,
                 dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{params.name}"')
    try:
        yield params, {**admin, "dbname": params.name}
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{params.name}" WITH (FORCE)')
