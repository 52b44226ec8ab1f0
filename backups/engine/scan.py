"""Walking the sources of a backup into manifest entries (no content read here)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from backups.engine.manifest import DIR, FILE, SYMLINK, Entry
from backups.engine.pathsafety import UnsafePath, check_link, check_name


class ScanError(Exception):
    """A source that cannot be read."""


@dataclass(frozen=True)
class Source:
    name: str  # the top-level directory in the archive: "database", "media", "extra-reports"
    path: Path  # a directory (walked) or a single file


@dataclass
class Scan:
    found: list[tuple[Entry, str]] = field(default_factory=list)  # entry, absolute path
    skipped: list[str] = field(default_factory=list)  # sockets, fifos, devices: never backed up

    def total_bytes(self) -> int:
        return sum(entry.size for entry, _ in self.found if entry.type == FILE)


def _entry(path: str, st: os.stat_result, *, target: str = "") -> Entry | None:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        kind, size = FILE, st.st_size
    elif stat.S_ISDIR(mode):
        kind, size = DIR, 0
    elif stat.S_ISLNK(mode):
        kind, size = SYMLINK, 0
    else:
        return None
    return Entry(path, kind, stat.S_IMODE(mode), st.st_mtime_ns, size=size, target=target,
                 ctime_ns=st.st_ctime_ns, inode=st.st_ino)


def _link_stays_inside(name: str, target: str) -> bool:
    try:
        check_link(name, target)
    except UnsafePath:
        return False
    return True


def _walk(name: str, directory: str, result: Scan) -> Iterator[tuple[Entry, str]]:
    try:
        with os.scandir(directory) as listing:
            children = sorted(listing, key=lambda child: child.name)
    except OSError as exc:
        raise ScanError(f"cannot list {directory}: {exc.strerror or exc}") from exc
    for child in children:
        relative = f"{name}/{child.name}"
        try:
            check_name(relative)
            st = child.stat(follow_symlinks=False)
            target = os.readlink(child.path) if stat.S_ISLNK(st.st_mode) else ""
        except UnsafePath as exc:
            raise ScanError(f"cannot back up {child.path}: {exc}") from exc
        except OSError as exc:
            raise ScanError(f"cannot read {child.path}: {exc.strerror or exc}") from exc
        entry = _entry(relative, st, target=target)
        if entry is None:
            result.skipped.append(f"{child.path} (not a file, directory or symlink)")
            continue
        if entry.type == SYMLINK and not _link_stays_inside(relative, target):
            # A restore refuses links that leave the tree; one that could never be restored is not stored.
            result.skipped.append(f"{child.path} (symlink to {target!r}, outside the tree)")
            continue
        yield entry, child.path
        if entry.type == DIR:
            yield from _walk(relative, child.path, result)


def scan(sources: list[Source]) -> Scan:
    """Every directory, file and symlink of the sources, parents before children."""
    result = Scan()
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise ScanError(f"source names must be distinct: {names}")
    for source in sources:
        check_name(source.name)
        try:
            st = os.stat(source.path)
        except OSError as exc:
            raise ScanError(f"source {source.name!r}: cannot read {source.path}: {exc.strerror or exc}") from exc
        if stat.S_ISREG(st.st_mode):
            root = os.stat(source.path.parent)
            result.found.append((Entry(source.name, DIR, mode=0o700, mtime_ns=root.st_mtime_ns), ""))
            entry = _entry(f"{source.name}/{source.path.name}", st)
            assert entry is not None
            result.found.append((entry, str(source.path)))
        elif stat.S_ISDIR(st.st_mode):
            top = _entry(source.name, st)
            assert top is not None
            result.found.append((top, str(source.path)))
            result.found.extend(_walk(source.name, str(source.path), result))
        else:
            raise ScanError(f"source {source.name!r}: {source.path} is neither a file nor a directory")
    return result
