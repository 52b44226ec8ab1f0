"""Where the optimizer may delete or rewrite files, and how it walks there (no Django).

Only allow-listed directories (settings), each checked: an absolute path without `..`, an
existing real directory reached without symlinks, not the filesystem root nor a system
directory. Walking uses directory file descriptors (`os.fwalk`) and never follows a symlink;
only regular files on the root's own filesystem are offered; acting on one goes through its
parent's descriptor (`dir_fd`), so a directory renamed or swapped for a symlink meanwhile
cannot redirect it elsewhere.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Never allow-listable, even if an operator lists them (nor anything they resolve to).
SYSTEM_DIRECTORIES = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/opt", "/proc", "/root", "/run",
    "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/log", "/var/tmp", "/mnt", "/media",
})


class UnsafeDirectory(ValueError):
    """A configured directory the optimizer refuses to touch."""


def checked_root(configured: str) -> Path:
    """The allow-listed directory `configured`, or UnsafeDirectory saying why not."""
    if not configured or not os.path.isabs(configured):
        raise UnsafeDirectory(f"{configured!r}: not an absolute path")
    if ".." in Path(configured).parts:
        raise UnsafeDirectory(f"{configured!r}: contains '..'")
    normal = os.path.normpath(configured)
    try:
        real = os.path.realpath(normal, strict=True)
    except OSError as exc:
        raise UnsafeDirectory(f"{configured!r}: does not exist") from exc
    if real != normal:
        raise UnsafeDirectory(f"{configured!r}: reached through a symlink (it is {real!r})")
    if not os.path.isdir(real):
        raise UnsafeDirectory(f"{configured!r}: not a directory")
    if real in SYSTEM_DIRECTORIES:
        raise UnsafeDirectory(f"{configured!r}: a system directory")
    return Path(real)


@dataclass(frozen=True)
class FileEntry:
    """A regular file found under a root, with what it takes to act on it safely."""

    relative: str
    name: str
    dir_fd: int  # valid only during the walk
    size: int
    mtime: float
    device: int
    inode: int


def regular_files(root: Path) -> Iterator[FileEntry]:
    """Every regular file under `root`, symlinks and other filesystems left out (bottom-up)."""
    device = os.stat(root, follow_symlinks=False).st_dev
    for dirpath, dirnames, filenames, dir_fd in os.fwalk(root, topdown=True, follow_symlinks=False):
        relative_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if _same_device_dir(d, dir_fd, device)]
        for name in filenames:
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # gone meanwhile
            if not stat.S_ISREG(info.st_mode) or info.st_dev != device:
                continue
            relative = name if relative_dir == "." else os.path.join(relative_dir, name)
            yield FileEntry(relative, name, dir_fd, info.st_size, info.st_mtime, info.st_dev, info.st_ino)


def _same_device_dir(name: str, dir_fd: int, device: int) -> bool:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_dev == device


def still_same(entry: FileEntry) -> bool:
    """The name still holds the file that was judged (not replaced by a link or another file)."""
    try:
        info = os.stat(entry.name, dir_fd=entry.dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) == (entry.device, entry.inode)


def remove(entry: FileEntry) -> bool:
    """Unlink the entry through its directory's descriptor (a symlink is never followed)."""
    if not still_same(entry):
        return False
    os.unlink(entry.name, dir_fd=entry.dir_fd)
    return True
