"""File actions of the optimizer, inside one checked root (no Django): delete old temporary
files, gzip rotated logs, prune old rotated logs. Each returns what it did (or would do in a
dry run): the files, the bytes freed, and the errors met (a failure never stops the rest)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from monitoring.optimizer.paths import FileEntry, regular_files, remove, still_same

# app.log.1, app.log.2024-05-01, app.log.2024-05-01_3, app-2024-05-01.log (rotated), not app.log itself.
ROTATED = re.compile(r"^.+\.log\.(\d+|\d{4}-\d{2}-\d{2}([_.-]\d+)?)$|^.+[-_.]\d{4}-\d{2}-\d{2}([_.-]\d+)?\.log$")
COMPRESSED = re.compile(r"^.+\.log(\.[^/]+)?\.gz$|^.+[-_.]\d{4}-\d{2}-\d{2}([_.-]\d+)?\.log\.gz$")
MAX_LISTED = 200


@dataclass
class Report:
    files: list[str] = field(default_factory=list)  # the first MAX_LISTED, relative to the root
    count: int = 0
    bytes_freed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, relative: str, freed: int) -> None:
        self.count += 1
        self.bytes_freed += max(0, freed)
        if len(self.files) < MAX_LISTED:
            self.files.append(relative)


def cleanup(root: Path, *, older_than_seconds: float, now: float, dry_run: bool) -> Report:
    """Delete regular files not modified for `older_than_seconds` (temporary directories)."""
    report = Report()
    for entry in regular_files(root):
        if now - entry.mtime >= older_than_seconds:
            _delete(entry, report, dry_run)
    return report


def prune(root: Path, *, older_than_seconds: float, now: float, dry_run: bool) -> Report:
    """Delete rotated and compressed logs older than the retention (never an active `*.log`)."""
    report = Report()
    for entry in regular_files(root):
        rotated = ROTATED.match(entry.name) or COMPRESSED.match(entry.name)
        if rotated and now - entry.mtime >= older_than_seconds:
            _delete(entry, report, dry_run)
    return report


def compress(root: Path, *, older_than_seconds: float, now: float, dry_run: bool) -> Report:
    """Gzip rotated logs untouched for `older_than_seconds` (`app.log.1` -> `app.log.1.gz`)."""
    report = Report()
    for entry in regular_files(root):
        if not ROTATED.match(entry.name) or now - entry.mtime < older_than_seconds:
            continue
        if dry_run:
            report.add(entry.relative, entry.size // 2)  # a guess: text logs shrink far more
            continue
        try:
            freed = _gzip(entry)
        except OSError as exc:
            report.errors.append(f"{entry.relative}: {exc.strerror or exc}")
            continue
        if freed is not None:
            report.add(entry.relative, freed)
    return report


def _delete(entry: FileEntry, report: Report, dry_run: bool) -> None:
    if dry_run:
        report.add(entry.relative, entry.size)
        return
    try:
        if remove(entry):
            report.add(entry.relative, entry.size)
    except OSError as exc:
        report.errors.append(f"{entry.relative}: {exc.strerror or exc}")


def _gzip(entry: FileEntry) -> int | None:
    """Compress next to the original (created exclusively, never through a link), keep its
    mtime, remove the original; the bytes freed, or None when it changed meanwhile."""
    target = entry.name + ".gz"
    source_fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=entry.dir_fd)
    try:
        if not still_same(entry):
            return None
        target_fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640, dir_fd=entry.dir_fd)
        try:
            with os.fdopen(os.dup(source_fd), "rb") as src, os.fdopen(target_fd, "wb") as raw, \
                    gzip.GzipFile(filename=entry.name, fileobj=raw, mode="wb", mtime=int(entry.mtime)) as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
        except BaseException:
            os.unlink(target, dir_fd=entry.dir_fd)
            raise
        os.utime(target, (entry.mtime, entry.mtime), dir_fd=entry.dir_fd, follow_symlinks=False)
        compressed = os.stat(target, dir_fd=entry.dir_fd, follow_symlinks=False).st_size
        if not remove(entry):  # rewritten while we compressed: keep it, drop our copy
            os.unlink(target, dir_fd=entry.dir_fd)
            return None
        return entry.size - compressed
    finally:
        os.close(source_fd)
