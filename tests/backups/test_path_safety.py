"""Restores refuse names and links that would write outside the target."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from contextlib import contextmanager

import pytest

from backups.engine.archive import iter_members
from backups.engine.manifest import Entry, Manifest
from backups.engine.pathsafety import UnsafePath, check_link, check_name, inside
from backups.engine.restore import restore_tree


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "./a", "a/./b", "C:/x",
                                  "\\\\server\\share", "a\0b", ".."])
def test_unsafe_names_are_refused(name):
    with pytest.raises(UnsafePath):
        check_name(name)


@pytest.mark.parametrize("name", ["a", "a/b/c.txt", "dir/", "ünï/课程.md", "a..b", "...x"])
def test_ordinary_names_pass(name):
    assert check_name(name) == name.rstrip("/")


@pytest.mark.parametrize(("name", "target"), [("a/link", "/etc"), ("a/link", "../../x"), ("link", ".."),
                                              ("a/b/link", "../../../etc/passwd")])
def test_links_leaving_the_tree_are_refused(name, target):
    with pytest.raises(UnsafePath):
        check_link(name, target)


@pytest.mark.parametrize(("name", "target"), [("a/link", "../b"), ("a/b/link", "../c/d"), ("link", "a/b")])
def test_links_inside_the_tree_pass(name, target):
    assert check_link(name, target) == target


def test_inside_refuses_writing_through_a_planted_symlink(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "evil").symlink_to(tmp_path)
    with pytest.raises(UnsafePath, match="outside"):
        inside(root, "evil/file")
    (root / "link-file").symlink_to(tmp_path / "x")
    with pytest.raises(UnsafePath, match="symlink"):
        inside(root, "link-file")


def malicious_tar(*members: tarfile.TarInfo, content: bytes = b"pwned") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for info in members:
            if info.isreg():
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
            else:
                archive.addfile(info)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def restore_from(raw: bytes, manifest: Manifest, target):
    """Restore through the real tar.gz reader, as if `raw` were a run's archive."""
    compressed = gzip.compress(raw)

    @contextmanager
    def open_run(run_id):
        yield iter_members("tar.gz", io.BytesIO(compressed))

    return restore_tree(manifest, target, open_run)


def wanting(name: str) -> Manifest:
    entry = Entry("media/ok.txt", "file", 0o644, 0, size=5, sha256=hashlib.sha256(b"pwned").hexdigest(),
                  stored_in=1, member=name)
    return Manifest(1, "full", None, "now", "tar.gz", entries=[Entry("media", "dir", 0o755, 0), entry])


@pytest.mark.parametrize("evil", [
    member("../outside.txt"),
    member("/abs/path.txt"),
    member("media/escape", tarfile.SYMTYPE, "../../outside"),
    member("media/abs-link", tarfile.SYMTYPE, "/etc/passwd"),
    member("media/hard", tarfile.LNKTYPE, "/etc/passwd"),
    member("media/device", tarfile.CHRTYPE),
    member("media/fifo", tarfile.FIFOTYPE),
])
def test_a_malicious_archive_is_refused_and_writes_nothing_outside(tmp_path, evil):
    raw = malicious_tar(evil, member("media/ok.txt"))
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(UnsafePath):
        restore_from(raw, wanting("media/ok.txt"), target)
    assert not (tmp_path / "outside.txt").exists()
    assert not (tmp_path / "outside").exists()


@pytest.mark.parametrize("entries", [
    [Entry("../x", "file", 0o644, 0, size=1, stored_in=1, member="x")],
    [Entry("/abs", "dir", 0o755, 0)],
    [Entry("media/l", "symlink", 0o777, 0, target="../../etc")],
    [Entry("media/dev", "chardev", 0o600, 0)],
])
def test_a_manifest_naming_unsafe_paths_is_refused_before_anything_is_written(tmp_path, entries):
    target = tmp_path / "target"
    target.mkdir()
    manifest = Manifest(1, "full", None, "now", "tar.gz", entries=entries)
    with pytest.raises(UnsafePath):
        restore_tree(manifest, target, lambda run_id: pytest.fail("no archive may be opened"))
    assert list(target.iterdir()) == []
