"""Each format round-trips a tree byte-exact, and standard tools read unencrypted archives."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import zipfile

import pytest

from backups.engine.archive import ArchiveError, level_for, open_writer
from backups.engine.crypto import generate_key
from backups.engine.manifest import MEMBER_NAME
from backups.engine.pipeline import IntegrityError
from tests.backups.conftest import tree_digest, write_tree
from tests.backups.engine_helpers import MemoryStore

FORMATS = ["tar.gz", "tar.zst", "zip"]


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "src"
    root.mkdir()
    write_tree(root)
    return root


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("encrypted", [False, True])
def test_a_full_backup_restores_byte_exact(tree, tmp_path, fmt, encrypted):
    store = MemoryStore(fmt=fmt, key=generate_key("k") if encrypted else None)
    result = store.backup(1, tree)
    report = store.restore(1, tmp_path / "out")
    assert tree_digest(tmp_path / "out" / "media") == tree_digest(tree)
    assert report.files == result.manifest.entries.__len__() - report.dirs - report.symlinks
    assert result.bytes_in == sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink())


def test_tar_gz_is_read_by_standard_tar(tree, tmp_path):
    store = MemoryStore(fmt="tar.gz")
    store.backup(1, tree)
    out = tmp_path / "tar-out"
    out.mkdir()
    subprocess.run(["tar", "xzf", "-", "-C", str(out)], input=store.archives[1], check=True)
    restored = tree_digest(out / "media")
    original = tree_digest(tree)
    assert {k: v[:2] for k, v in restored.items()} == {k: v[:2] for k, v in original.items()}
    assert (out / MEMBER_NAME).exists()


@pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd binary not installed")
def test_tar_zst_is_read_by_standard_tar_with_zstd(tree, tmp_path):
    store = MemoryStore(fmt="tar.zst")
    store.backup(1, tree)
    listing = subprocess.run(["tar", "--zstd", "-tf", "-"], input=store.archives[1], check=True,
                             capture_output=True).stdout.decode()
    assert "media/uploads/2026/11/notes.txt" in listing


def test_zip_is_a_standard_zip(tree):
    store = MemoryStore(fmt="zip")
    store.backup(1, tree)
    archive = zipfile.ZipFile(io.BytesIO(store.archives[1]))
    assert archive.testzip() is None
    assert archive.read("media/uploads/data.json") == (tree / "uploads" / "data.json").read_bytes()


def test_tar_members_have_unicode_names_and_modes(tree):
    store = MemoryStore(fmt="tar.gz")
    store.backup(1, tree)
    with tarfile.open(fileobj=io.BytesIO(store.archives[1])) as archive:
        names = archive.getnames()
        assert "media/uploads/ünïcødé – 課程.md" in names
        assert archive.getmember("media/uploads/run.sh").mode == 0o750


def test_levels_are_checked():
    assert level_for("tar.zst", None) == 3
    with pytest.raises(ArchiveError):
        level_for("tar.gz", 12)
    with pytest.raises(ArchiveError):
        open_writer("rar", io.BytesIO())


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_damaged_unencrypted_archive_fails_its_checksum(tree, tmp_path, fmt):
    store = MemoryStore(fmt=fmt)
    store.backup(1, tree)
    damaged = bytearray(store.archives[1])
    damaged[len(damaged) // 2] ^= 0xFF
    store.archives[1] = bytes(damaged)
    with pytest.raises((ArchiveError, IntegrityError)):
        store.restore(1, tmp_path / "out")
