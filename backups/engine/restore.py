"""Rebuilding a run's tree from the archives of its chain, into a staging directory.

Every name of the manifest and every member of every archive read passes pathsafety first;
links, hard links, devices and fifos in an archive are never created from it (the manifest
says what links exist, and only links that stay inside the tree are made). Files are written
with O_EXCL | O_NOFOLLOW under parents that resolve inside the staging root, their content
checked against the manifest's SHA-256 as it is written. The caller moves the staging
directory into place only when everything succeeded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from backups.engine import archive
from backups.engine.archive import Member
from backups.engine.manifest import DIR, FILE, MEMBER_NAME, SYMLINK, Entry, Manifest
from backups.engine.pathsafety import UnsafePath, check_link, check_name, inside
from backups.engine.pipeline import IntegrityError
from backups.engine.streams import COPY_BLOCK

OpenRun = Callable[[int], AbstractContextManager[Iterator[Member]]]


@dataclass
class RestoreReport:
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    bytes: int = 0


def check_manifest(manifest: Manifest, *, prefix: str = "") -> list[Entry]:
    """The entries to restore (under `prefix` if given), every path and link target checked."""
    chosen = []
    for entry in manifest.entries:
        check_name(entry.path)
        if entry.type == SYMLINK:
            check_link(entry.path, entry.target)
        elif entry.type not in (FILE, DIR):
            raise UnsafePath(f"{entry.path!r}: type {entry.type!r} is never restored")
        if not prefix or entry.path == prefix or entry.path.startswith(prefix + "/"):
            chosen.append(entry)
    return chosen


HASH_BACKLOG = 4  # blocks handed to the hashing thread and not hashed yet, at most


def _write_member(member: Member, path: Path, entry: Entry, hasher: ThreadPoolExecutor) -> int:
    """Write a member's content, hashing it in `hasher`'s thread meanwhile (SHA-256 and the
    write both release the GIL, so they overlap)."""
    assert member.stream is not None
    digest = hashlib.sha256()
    size = 0
    pending: deque[Future[None]] = deque()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        while block := member.stream.read(COPY_BLOCK):
            pending.append(hasher.submit(digest.update, block))  # one worker: in order
            out.write(block)
            size += len(block)
            if len(pending) > HASH_BACKLOG:
                pending.popleft().result()
    for future in pending:
        future.result()
    if size != entry.size or digest.hexdigest() != entry.sha256:
        raise IntegrityError(f"{entry.path}: restored content does not match the manifest")
    return size


def _finish(path: Path, entry: Entry) -> None:
    os.chmod(path, entry.mode & 0o777, follow_symlinks=False)
    os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns), follow_symlinks=False)


def _check_member(member: Member) -> str:
    name = check_name(member.name)
    if member.type == archive.SYMLINK:
        check_link(name, member.linkname)
    elif member.type == archive.OTHER:
        raise UnsafePath(f"{name!r}: hard links, devices and fifos are never restored")
    return name


class _Restore:
    def __init__(self, entries: list[Entry], staging: Path, progress: Callable[[int, int], None] | None,
                 hasher: ThreadPoolExecutor):
        self.entries = entries
        self.hasher = hasher
        self.staging = staging
        self.progress = progress
        self.report = RestoreReport()
        self.total = sum(e.size for e in entries if e.type == FILE)
        self.checked: set[str] = set()  # parents resolved inside the root while no link exists yet
        self.real_staging = Path(os.path.realpath(staging))
        self.made: set[str] = set()  # directories known to exist

    def make_dirs(self) -> None:
        for entry in sorted((e for e in self.entries if e.type == DIR), key=lambda e: e.path):
            path = inside(self.real_staging, entry.path, self.checked)  # no link exists yet
            self.make_parent(path)
            os.mkdir(path, mode=0o700)
            self.made.add(str(path))
            self.report.dirs += 1

    def make_parent(self, path: Path) -> None:
        parent = str(path.parent)
        if parent not in self.made:
            os.makedirs(parent, mode=0o700, exist_ok=True)
            self.made.add(parent)

    def wanted_by_run(self) -> dict[int, dict[str, list[Entry]]]:
        wanted: dict[int, dict[str, list[Entry]]] = {}
        for entry in self.entries:
            if entry.type == FILE:
                if entry.stored_in is None:
                    raise IntegrityError(f"{entry.path}: the manifest does not say which archive holds it")
                wanted.setdefault(entry.stored_in, {}).setdefault(entry.member, []).append(entry)
        return wanted

    def from_archive(self, run_id: int, members: Iterator[Member], wanted: dict[str, list[Entry]]) -> None:
        found: set[str] = set()
        for member in members:
            name = _check_member(member)
            targets = wanted.get(name)
            if name == MEMBER_NAME or targets is None or member.type != archive.FILE:
                continue
            if name in found:
                raise IntegrityError(f"archive of run {run_id} holds {name} twice")
            found.add(name)
            first = inside(self.real_staging, targets[0].path, self.checked)
            self.make_parent(first)
            self.report.bytes += _write_member(member, first, targets[0], self.hasher)
            self.report.files += 1
            for other in targets[1:]:  # the same content at several paths: copy what was checked
                path = inside(self.real_staging, other.path, self.checked)
                self.make_parent(path)
                shutil.copyfile(first, path, follow_symlinks=False)
                _finish(path, other)
                self.report.files += 1
            _finish(first, targets[0])
            if self.progress is not None:
                self.progress(self.report.bytes, self.total)
        missing = sorted(set(wanted) - found)
        if missing:
            raise IntegrityError(f"archive of run {run_id} lacks {len(missing)} member(s), e.g. {missing[0]}")

    def links_and_dirs(self) -> None:
        for entry in self.entries:
            if entry.type == SYMLINK:
                path = inside(self.staging, entry.path)
                os.makedirs(path.parent, mode=0o700, exist_ok=True)
                os.symlink(entry.target, path)
                os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns), follow_symlinks=False)
                self.report.symlinks += 1
        # Deepest first: setting a parent's mtime before its children are done would not stick.
        for entry in sorted((e for e in self.entries if e.type == DIR), key=lambda e: e.path.count("/"),
                            reverse=True):
            _finish(inside(self.staging, entry.path), entry)


def restore_tree(manifest: Manifest, staging: Path, open_run: OpenRun, *, prefix: str = "",
                 progress: Callable[[int, int], None] | None = None) -> RestoreReport:
    """Write the tree of `manifest` (or its part under `prefix`) into the empty `staging`.

    `open_run(run_id)` opens the archive of a run of the chain and yields its members
    (pipeline.read_archive); each archive is read once, in run order.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="backup-restore-hash") as hasher:
        job = _Restore(check_manifest(manifest, prefix=prefix), staging, progress, hasher)
        job.make_dirs()
        for run_id, wanted in sorted(job.wanted_by_run().items()):
            with open_run(run_id) as members:
                job.from_archive(run_id, members, wanted)
        job.links_and_dirs()
    return job.report
