"""Backup and verify: sources -> manifest + archive -> (encryption) -> sink, and back.

One pass over the data for a backup: each stored file is read once, hashed while it is
archived. A file is read twice only when known content has its size (it is hashed first,
to be recognised as moved, touched or duplicated content and not stored again).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from backups.engine import archive
from backups.engine.archive import ArchiveError, ArchiveWriter, Member
from backups.engine.crypto import DEFAULT_CHUNK_SIZE, CryptoError, DecryptingReader, EncryptingWriter, Key, KeyRing
from backups.engine.manifest import DIR, FILE, MEMBER_NAME, SYMLINK, ContentIndex, Entry, Manifest, ManifestError
from backups.engine.pathsafety import UnsafePath, check_link, check_name
from backups.engine.scan import Scan, Source, scan
from backups.engine.streams import COPY_BLOCK, HashingReader, HashingWriter, Writable

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


class IntegrityError(Exception):
    """An archive that does not match its manifest or its recorded checksum."""


@dataclass
class BackupSpec:
    run_id: int
    kind: str  # full, incremental, differential
    parent_id: int | None
    created_at: str
    archive_format: str
    sources: list[Source]
    base: Manifest | None = None  # what unchanged files are compared with (None: store everything)
    level: int | None = None
    db_engine: str = ""
    threads: int = 0  # zstd worker threads (0: compress in the calling thread)


@dataclass
class BackupResult:
    manifest: Manifest
    bytes_in: int  # size of every file in the tree
    bytes_stored: int  # file bytes written into this archive
    bytes_out: int  # the archive as stored (compressed, encrypted)
    sha256: str  # of the archive as stored
    files_stored: int
    skipped: list[str] = field(default_factory=list)
    manifest_bytes: bytes = b""  # the manifest as stored in the database (compressed JSON)


def _open_source(path: str) -> BinaryIO:
    # O_NOFOLLOW: a file swapped for a symlink after the scan is not followed out of the tree.
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb", buffering=0)


def _hash_file(path: str) -> str:
    with _open_source(path) as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()  # type: ignore[arg-type]


# Below this much new data, zstd's worker threads cost more to start than they save.
THREADED_MIN_BYTES = 64 * 1024 * 1024


class _Backup:
    writer: ArchiveWriter

    def __init__(self, spec: BackupSpec, found: Scan, progress: Progress | None):
        self.spec = spec
        self.found = found
        self.progress = progress
        self.total = found.total_bytes()
        self.done = 0
        self.stored_bytes = 0
        self.stored_files = 0
        self.base = spec.base.by_path() if spec.base else {}
        self.index = ContentIndex(spec.base.files() if spec.base else ())
        # A full archive holds every file itself, so `tar x` of it alone rebuilds the tree;
        # runs that store changes also share content among their own new files.
        self.share_own = spec.base is not None

    def pending_bytes(self) -> int:
        """What may have to be stored: files not known unchanged from the base."""
        total = 0
        for entry, _ in self.found.found:
            previous = self.base.get(entry.path)
            if entry.type == FILE and (previous is None or not previous.same_stat(entry)):
                total += entry.size
        return total

    def advance(self, size: int) -> None:
        self.done += size
        if self.progress is not None:
            self.progress(self.done, self.total)

    def run(self) -> list[Entry]:
        # Directories and links live in the manifest; a full archive also holds them so that
        # `tar x` of it alone rebuilds the tree, the others hold only file contents.
        layout = self.spec.base is None
        entries: list[Entry] = []
        for entry, path in self.found.found:
            if entry.type == DIR:
                if layout:
                    self.writer.add_dir(entry.path, mode=entry.mode, mtime_ns=entry.mtime_ns)
            elif entry.type == SYMLINK:
                if layout:
                    self.writer.add_symlink(entry.path, entry.target, mtime_ns=entry.mtime_ns)
            else:
                self.file(entry, path)
            entries.append(entry)
        return entries

    def file(self, entry: Entry, path: str) -> None:
        previous = self.base.get(entry.path)
        if previous is not None and previous.stored_in is not None and previous.same_stat(entry):
            entry.sha256, entry.stored_in, entry.member = previous.sha256, previous.stored_in, previous.member
            self.advance(entry.size)
            return
        if self.index.has_size(entry.size):
            digest = _hash_file(path)
            known = self.index.find(entry.size, digest)
            if known is not None:  # moved, touched or duplicated: the bytes are stored already
                entry.sha256 = digest
                entry.stored_in, entry.member = known
                self.advance(entry.size)
                return
        with _open_source(path) as handle:
            entry.sha256 = self.writer.add_file(entry.path, handle, size=entry.size, mode=entry.mode,
                                                mtime_ns=entry.mtime_ns, on_bytes=self.advance)
        entry.stored_in, entry.member = self.spec.run_id, entry.path
        if self.share_own:
            self.index.add(entry.size, entry.sha256, self.spec.run_id, entry.path)
        self.stored_bytes += entry.size
        self.stored_files += 1


def write_backup(spec: BackupSpec, sink: Writable, *, key: Key | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 progress: Progress | None = None) -> BackupResult:
    """Scan the sources, write the archive (manifest last) to `sink`; return what was written."""
    found = scan(spec.sources)
    stored = HashingWriter(sink)
    encrypter = EncryptingWriter(stored, key, chunk_size=chunk_size) if key is not None else None
    job = _Backup(spec, found, progress)
    threads = spec.threads if job.pending_bytes() >= THREADED_MIN_BYTES else 0
    writer = job.writer = archive.open_writer(spec.archive_format, encrypter or stored, level=spec.level,
                                              threads=threads)
    entries = job.run()
    paths = {entry.path for entry in entries}
    manifest = Manifest(
        run_id=spec.run_id, kind=spec.kind, parent_id=spec.parent_id, created_at=spec.created_at,
        archive_format=spec.archive_format, db_engine=spec.db_engine,
        sources=[source.name for source in spec.sources], entries=entries,
        deleted=sorted(path for path in job.base if path not in paths),
    )
    raw = manifest.to_json()
    writer.add_file(MEMBER_NAME, io.BytesIO(raw), size=len(raw), mode=0o600, mtime_ns=0)
    writer.close()
    if encrypter is not None:
        encrypter.close()
    return BackupResult(manifest=manifest, bytes_in=job.total, bytes_stored=job.stored_bytes, bytes_out=stored.count,
                        sha256=stored.hexdigest(), files_stored=job.stored_files, skipped=found.skipped,
                        manifest_bytes=Manifest.compress(raw))


# --- Reading ---------------------------------------------------------------------------


@dataclass
class ArchiveInfo:
    run_id: int
    archive_format: str
    encrypted: bool
    sha256: str  # expected, of the stored bytes
    size: int | None = None  # expected stored size, when known


@contextmanager
def read_archive(raw: BinaryIO, info: ArchiveInfo, *, ring: KeyRing | None, spool_dir: Path | None = None,
                 checksum: bool = True) -> Iterator[Iterator[Member]]:
    """Members of a stored archive. On a clean exit the whole stream has been read and its
    size (and with `checksum`, its SHA-256) checked against the recorded ones; a mismatch
    raises IntegrityError. A restore, which checks every file it writes against the
    manifest's SHA-256, skips the second hash of the whole archive."""
    hashed = HashingReader(raw, hashing=checksum)
    plain: BinaryIO = hashed  # type: ignore[assignment]
    if info.encrypted:
        if ring is None:
            raise CryptoError("the archive is encrypted and no key ring was given")
        plain = DecryptingReader(hashed, ring)  # type: ignore[assignment]
    if info.archive_format == "zip":
        with tempfile.TemporaryFile(dir=spool_dir) as spool:
            shutil.copyfileobj(plain, spool, COPY_BLOCK)
            spool.seek(0)
            _check_digest(hashed, info)
            yield archive.iter_members("zip", spool)
        return
    yield archive.iter_members(info.archive_format, plain)
    hashed.drain()
    _check_digest(hashed, info)


def _check_digest(hashed: HashingReader, info: ArchiveInfo) -> None:
    hashed.drain()
    if info.size is not None and hashed.count != info.size:
        raise IntegrityError(f"archive of run {info.run_id} is {hashed.count} bytes, {info.size} were recorded")
    if info.sha256 and hashed.hashing and hashed.hexdigest() != info.sha256:
        raise IntegrityError(f"archive of run {info.run_id} does not match its recorded SHA-256")


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    members: int = 0
    bytes_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _hash_member(member: Member, on_bytes: Callable[[int], None] | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    assert member.stream is not None
    while block := member.stream.read(COPY_BLOCK):
        digest.update(block)
        size += len(block)
        if on_bytes is not None:
            on_bytes(len(block))
    return digest.hexdigest(), size


def verify_archive(raw: BinaryIO, info: ArchiveInfo, manifest: Manifest, *, ring: KeyRing | None,
                   spool_dir: Path | None = None, on_bytes: Callable[[int], None] | None = None) -> VerifyReport:
    """Decrypt and decompress one archive; check each member against the manifest of its run
    and the stored bytes against the recorded checksum."""
    report = VerifyReport()
    expected = manifest.stored_here()
    layout = {e.path: e for e in manifest.entries if e.type != FILE}
    seen: set[str] = set()
    try:
        with read_archive(raw, info, ring=ring, spool_dir=spool_dir) as members:
            for member in members:
                report.members += 1
                _check_member(member, expected, layout, manifest, seen, report, on_bytes)
    except (CryptoError, ArchiveError, IntegrityError) as exc:
        report.problems.append(str(exc))
        return report
    missing = sorted(set(expected) - seen)
    report.problems.extend(f"missing from the archive: {name}" for name in missing[:20])
    if len(missing) > 20:
        report.problems.append(f"... and {len(missing) - 20} more missing")
    if MEMBER_NAME not in seen:
        report.problems.append("the archive has no embedded manifest")
    return report


def _check_member(member: Member, expected: dict[str, Entry], layout: dict[str, Entry], manifest: Manifest,
                  seen: set[str], report: VerifyReport, on_bytes: Callable[[int], None] | None) -> None:
    try:
        name = check_name(member.name)
        if member.type == archive.SYMLINK:
            check_link(name, member.linkname)
    except UnsafePath as exc:
        report.problems.append(f"unsafe member: {exc}")
        return
    if name in seen:
        report.problems.append(f"member appears twice: {name}")
        return
    seen.add(name)
    if name == MEMBER_NAME and member.type == archive.FILE:
        _check_embedded_manifest(member, manifest, report)
        return
    entry = expected.get(name) if member.type == archive.FILE else layout.get(name)
    if entry is None or (member.type != archive.FILE and entry.type != member.type):
        report.problems.append(f"unexpected member ({member.type}): {name}")
        return
    if member.type == archive.FILE:
        digest, size = _hash_member(member, on_bytes)
        report.bytes_checked += size
        if size != entry.size or digest != entry.sha256:
            report.problems.append(f"content differs from the manifest: {name}")


def _check_embedded_manifest(member: Member, manifest: Manifest, report: VerifyReport) -> None:
    assert member.stream is not None
    try:
        embedded = Manifest.from_json(member.stream.read())
    except ManifestError as exc:
        report.problems.append(f"embedded manifest: {exc}")
        return
    if embedded.to_json() != manifest.to_json():
        report.problems.append("the embedded manifest differs from the recorded one")
