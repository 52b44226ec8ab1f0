"""The checks every name and link passes before anything is written on restore.

Refused: empty names, NUL bytes, absolute paths (POSIX or Windows style), `..` and `.`
components, empty components, symlinks whose target leaves the tree, and any path whose
resolved location is outside the restore root (e.g. through a symlink planted earlier).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path


class UnsafePath(Exception):
    """A member name or link that would write outside the restore target."""


def check_name(name: str) -> str:
    """A safe relative POSIX path (a trailing slash, as tar writes for directories, is dropped)."""
    if name.endswith("/") and len(name) > 1:
        name = name[:-1]
    if not name:
        raise UnsafePath("empty path")
    if "\0" in name:
        raise UnsafePath(f"path contains a NUL byte: {name!r}")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafePath(f"absolute path refused: {name!r}")
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise UnsafePath(f"path with {part or 'an empty'!r} component refused: {name!r}")
    return name


def check_link(name: str, target: str) -> str:
    """A symlink at `name` may only point inside the tree it is restored into."""
    if not target or "\0" in target:
        raise UnsafePath(f"symlink {name!r} has an invalid target")
    if target.startswith("/"):
        raise UnsafePath(f"symlink {name!r} points to an absolute path ({target!r}), outside the target")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if resolved == ".." or resolved.startswith("../") or resolved.startswith("/"):
        raise UnsafePath(f"symlink {name!r} points outside the target ({target!r})")
    return target


def inside(root: Path, name: str, checked: set[str] | None = None) -> Path:
    """root/name, after checking the name and that its parent resolves inside root.

    `checked` remembers parents already resolved (a restore writes many files per
    directory and creates no link before its files are done).
    """
    check_name(name)
    real_root = str(root) if checked is not None and str(root) in checked else os.path.realpath(root)
    if checked is not None:
        checked.add(real_root)
    path = os.path.join(real_root, *name.split("/"))
    directory = os.path.dirname(path)
    if checked is None or directory not in checked:
        parent = os.path.realpath(directory)
        if parent != real_root and not parent.startswith(real_root + os.sep):
            raise UnsafePath(f"{name!r} resolves outside the target")
        if checked is not None:
            checked.add(directory)
    if os.path.islink(path):
        raise UnsafePath(f"{name!r} is an existing symlink; refusing to write through it")
    return Path(path)
