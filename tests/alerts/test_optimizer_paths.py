"""The optimizer never touches a file outside its allow-listed directories: `..`, symlinked
roots, symlinks to files or directories outside, files swapped for links while it works."""

from __future__ import annotations

import gzip
import os
import time

import pytest

from monitoring.optimizer import files
from monitoring.optimizer.paths import UnsafeDirectory, checked_root, regular_files, remove

OLD = time.time() - 10 * 86400


def write(path, content: bytes = b"x" * 100, *, mtime: float = OLD):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def tree(tmp_path):
    """root/ (allow-listed) and outside/ (never to be touched), with links from one to the other."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    write(root / "old.tmp")
    write(root / "nested" / "deep" / "old.tmp")
    write(root / "fresh.tmp", mtime=time.time())
    precious = write(outside / "precious.db")
    write(outside / "dir" / "inner.tmp")
    os.symlink(precious, root / "link-to-file.tmp")
    os.symlink(outside / "dir", root / "link-to-dir")
    os.link(precious, root / "hardlink.tmp")
    return root, outside


def outside_intact(outside) -> bool:
    return (outside / "precious.db").read_bytes() == b"x" * 100 and (outside / "dir" / "inner.tmp").exists()


@pytest.mark.parametrize("configured", ["relative/dir", "", "/"])
def test_paths_that_are_not_absolute_directories_are_refused(configured):
    with pytest.raises(UnsafeDirectory):
        checked_root(configured)


def test_dot_dot_is_refused_even_when_it_resolves_somewhere_harmless(tree):
    root, outside = tree
    with pytest.raises(UnsafeDirectory, match="'\\.\\.'"):
        checked_root(f"{root}/../outside")


def test_a_root_reached_through_a_symlink_is_refused(tree, tmp_path):
    root, outside = tree
    os.symlink(outside, tmp_path / "alias")
    with pytest.raises(UnsafeDirectory, match="symlink"):
        checked_root(str(tmp_path / "alias"))
    with pytest.raises(UnsafeDirectory, match="symlink"):
        checked_root(str(root / "link-to-dir"))


@pytest.mark.parametrize("system", ["/etc", "/usr", "/var/log", "/tmp"])
def test_system_directories_are_refused(system):
    if not os.path.isdir(system) or os.path.islink(system):
        pytest.skip(f"{system} is not a plain directory here")
    with pytest.raises(UnsafeDirectory, match="system"):
        checked_root(system)


def test_missing_directories_and_files_are_refused(tree):
    root, _ = tree
    with pytest.raises(UnsafeDirectory, match="does not exist"):
        checked_root(str(root / "nope"))
    with pytest.raises(UnsafeDirectory, match="not a directory"):
        checked_root(str(root / "old.tmp"))


def test_the_walk_offers_only_regular_files_inside_and_never_follows_links(tree):
    root, _ = tree
    found = sorted(entry.relative for entry in regular_files(checked_root(str(root))))
    assert found == ["fresh.tmp", "hardlink.tmp", "nested/deep/old.tmp", "old.tmp"]


def test_cleanup_deletes_old_files_inside_and_nothing_outside(tree):
    root, outside = tree
    report = files.cleanup(checked_root(str(root)), older_than_seconds=86400, now=time.time(), dry_run=False)
    assert sorted(report.files) == ["hardlink.tmp", "nested/deep/old.tmp", "old.tmp"] and report.count == 3
    assert report.bytes_freed == 300 and report.errors == []
    assert outside_intact(outside)  # the hard link's other name keeps the data
    assert (root / "fresh.tmp").exists() and os.path.islink(root / "link-to-file.tmp")
    assert os.path.islink(root / "link-to-dir")


def test_a_dry_run_reports_without_deleting(tree):
    root, outside = tree
    report = files.cleanup(checked_root(str(root)), older_than_seconds=86400, now=time.time(), dry_run=True)
    assert report.count == 3 and (root / "old.tmp").exists() and outside_intact(outside)


def test_a_file_swapped_for_a_link_after_it_was_judged_is_left_alone(tree):
    root, outside = tree
    for entry in regular_files(checked_root(str(root))):
        if entry.name == "old.tmp" and "/" not in entry.relative:
            os.unlink(root / "old.tmp")
            os.symlink(outside / "precious.db", root / "old.tmp")
            assert remove(entry) is False
    assert outside_intact(outside) and os.path.islink(root / "old.tmp")


def test_rotated_logs_are_compressed_in_place(tmp_path):
    logs = tmp_path / "logs"
    content = b"GET /api/courses/ 200\n" * 2000
    write(logs / "app.log", content)  # the active log: never touched
    rotated = write(logs / "app.log.1", content)
    write(logs / "app.log.2", content, mtime=time.time())  # just rotated: not yet
    write(logs / "worker-2026-01-02.log", content)
    os.symlink(tmp_path / "elsewhere.log.1", logs / "dangling.log.3")
    report = files.compress(checked_root(str(logs)), older_than_seconds=3600, now=time.time(), dry_run=False)
    assert sorted(report.files) == ["app.log.1", "worker-2026-01-02.log"] and report.errors == []
    assert not rotated.exists() and gzip.decompress((logs / "app.log.1.gz").read_bytes()) == content
    assert os.stat(logs / "app.log.1.gz").st_mtime == pytest.approx(OLD, abs=1)
    assert report.bytes_freed > len(content)  # two files, each shrinking by most of its size
    assert (logs / "app.log").read_bytes() == content and (logs / "app.log.2").exists()


def test_an_existing_archive_is_never_overwritten(tmp_path):
    logs = tmp_path / "logs"
    write(logs / "app.log.1")
    write(logs / "app.log.1.gz", b"older archive")
    report = files.compress(checked_root(str(logs)), older_than_seconds=0, now=time.time(), dry_run=False)
    assert report.count == 0 and "exists" in report.errors[0]
    assert (logs / "app.log.1.gz").read_bytes() == b"older archive" and (logs / "app.log.1").exists()


def test_pruning_deletes_only_old_rotated_logs(tmp_path):
    logs = tmp_path / "logs"
    write(logs / "app.log")
    write(logs / "app.log.3.gz")
    write(logs / "app.log.2")
    write(logs / "app.log.1.gz", mtime=time.time())
    write(logs / "notes.txt")
    report = files.prune(checked_root(str(logs)), older_than_seconds=86400, now=time.time(), dry_run=False)
    assert sorted(report.files) == ["app.log.2", "app.log.3.gz"]
    assert sorted(p.name for p in logs.iterdir()) == ["app.log", "app.log.1.gz", "notes.txt"]
