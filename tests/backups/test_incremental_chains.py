"""Incremental and differential runs store only what changed, yet restore the exact tree."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from backups.engine.crypto import generate_key
from tests.backups.conftest import tree_digest, write_tree
from tests.backups.engine_helpers import MemoryStore


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "src"
    root.mkdir()
    write_tree(root)
    return root


def touch_later(path):
    later = time.time_ns() + 5_000_000_000
    os.utime(path, ns=(later, later))


def change(tree):
    (tree / "uploads" / "data.json").write_text('{"changed": true}\n')
    (tree / "uploads" / "new.txt").write_text("a new file\n")
    (tree / "uploads" / "zero.bin").unlink()
    shutil.rmtree(tree / "empty-dir")
    (tree / "fresh-empty-dir").mkdir()


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "zip"])
def test_an_incremental_chain_restores_every_run_byte_exact(tree, tmp_path, fmt):
    store = MemoryStore(fmt=fmt, key=generate_key("k"))
    store.backup(1, tree)
    states = {1: tree_digest(tree)}
    change(tree)
    second = store.backup(2, tree, kind="incremental", base=1)
    states[2] = tree_digest(tree)
    (tree / "uploads" / "third.txt").write_text("third\n")
    store.backup(3, tree, kind="incremental", base=2)
    states[3] = tree_digest(tree)
    assert second.files_stored == 2  # data.json and new.txt, nothing else
    assert sorted(second.manifest.deleted) == ["media/empty-dir", "media/uploads/zero.bin"]
    for run_id, expected in states.items():
        out = tmp_path / f"restore-{run_id}"
        store.restore(run_id, out)
        assert tree_digest(out / "media") == expected, run_id


def test_a_differential_run_stores_everything_changed_since_the_full(tree, tmp_path):
    store = MemoryStore()
    store.backup(1, tree)
    (tree / "uploads" / "a.txt").write_text("a\n")
    store.backup(2, tree, kind="differential", base=1)
    (tree / "uploads" / "b.txt").write_text("b\n")
    third = store.backup(3, tree, kind="differential", base=1)
    assert third.files_stored == 2
    assert third.manifest.depends_on() == {1, 3}
    store.restore(3, tmp_path / "out")
    assert tree_digest(tmp_path / "out" / "media") == tree_digest(tree)


def test_moved_touched_and_copied_files_are_not_stored_again(tree, tmp_path):
    store = MemoryStore()
    store.backup(1, tree)
    os.rename(tree / "uploads" / "video.bin", tree / "moved-video.bin")
    touch_later(tree / "uploads" / "data.json")
    shutil.copyfile(tree / "uploads" / "2026" / "11" / "notes.txt", tree / "copy-of-notes.txt")
    result = store.backup(2, tree, kind="incremental", base=1)
    assert result.files_stored == 0
    assert result.bytes_stored == 0
    moved = result.manifest.by_path()["media/moved-video.bin"]
    assert (moved.stored_in, moved.member) == (1, "media/uploads/video.bin")
    store.restore(2, tmp_path / "out")
    assert tree_digest(tmp_path / "out" / "media") == tree_digest(tree)


def test_an_unchanged_tree_stores_nothing(tree):
    store = MemoryStore()
    first = store.backup(1, tree)
    second = store.backup(2, tree, kind="incremental", base=1)
    assert second.files_stored == 0
    assert second.bytes_out < first.bytes_out // 100


def test_a_full_archive_holds_duplicates_itself(tree):
    shutil.copyfile(tree / "uploads" / "data.json", tree / "uploads" / "data-copy.json")
    store = MemoryStore()
    result = store.backup(1, tree)
    assert all(entry.stored_in == 1 and entry.member == entry.path for entry in result.manifest.files())


def test_a_file_that_shrinks_while_read_fails_the_backup(tree, monkeypatch):
    from backups.engine import archive, pipeline

    real = pipeline._open_source

    def shrinking(path):
        handle = real(path)
        if path.endswith("video.bin"):
            os.truncate(path, 10)
        return handle

    monkeypatch.setattr(pipeline, "_open_source", shrinking)
    with pytest.raises(archive.FileChangedError):
        MemoryStore().backup(1, tree)
