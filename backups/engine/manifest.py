"""What a run holds: every file, directory and link of the backed-up tree.

A manifest lists the whole tree at the time of its run, incremental or not. Each file names
the run whose archive holds its bytes (`stored_in`) and the member name there (`member`), so
a restore of any run reads exactly the archives it needs and nothing else. Runs that store
only changes point unchanged, moved or touched files at earlier archives; `deleted` records
what left the tree since the run's parent.

Serialized as JSON (one list per entry, fields named once), compressed with zstd.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import zstandard

FORMAT_VERSION = 1
MEMBER_NAME = ".tecnocursos-backup/manifest.json"
FILE, DIR, SYMLINK = "file", "dir", "symlink"
_FIELDS = ("path", "type", "mode", "mtime_ns", "size", "sha256", "target", "stored_in", "member",
           "ctime_ns", "inode")


class ManifestError(Exception):
    """A manifest that cannot be read."""


@dataclass(slots=True)
class Entry:
    path: str  # relative POSIX path in the archive namespace: "media/uploads/a.pdf"
    type: str  # file, dir or symlink
    mode: int  # permission bits
    mtime_ns: int
    size: int = 0
    sha256: str = ""
    target: str = ""  # symlinks
    stored_in: int | None = None  # run whose archive holds the bytes (files)
    member: str = ""  # the member name in that archive
    # Change detection only (restic's rule: same size, mtime, ctime and inode = unchanged).
    ctime_ns: int = 0
    inode: int = 0

    def row(self) -> list[Any]:
        return [getattr(self, name) for name in _FIELDS]

    def same_stat(self, other: Entry) -> bool:
        return (self.type == other.type and self.size == other.size and self.mtime_ns == other.mtime_ns
                and self.ctime_ns == other.ctime_ns and self.inode == other.inode)


@dataclass
class Manifest:
    run_id: int
    kind: str
    parent_id: int | None
    created_at: str
    archive_format: str
    db_engine: str = ""
    sources: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def files(self) -> Iterator[Entry]:
        return (e for e in self.entries if e.type == FILE)

    def by_path(self) -> dict[str, Entry]:
        return {e.path: e for e in self.entries}

    def depends_on(self) -> set[int]:
        """Runs whose archives hold bytes of this tree (this run included, if it stored any)."""
        return {e.stored_in for e in self.files() if e.stored_in is not None}

    def stored_here(self) -> dict[str, Entry]:
        """Member name -> one entry, for the members this run's own archive holds."""
        return {e.member: e for e in self.files() if e.stored_in == self.run_id}

    def total_size(self) -> int:
        return sum(e.size for e in self.files())

    def to_json(self) -> bytes:
        document = {
            "version": FORMAT_VERSION, "run_id": self.run_id, "kind": self.kind, "parent_id": self.parent_id,
            "created_at": self.created_at, "archive_format": self.archive_format, "db_engine": self.db_engine,
            "sources": self.sources, "deleted": self.deleted, "fields": list(_FIELDS),
            "entries": [e.row() for e in self.entries],
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogateescape")

    def to_bytes(self) -> bytes:
        return self.compress(self.to_json())

    @staticmethod
    def compress(raw_json: bytes) -> bytes:
        return zstandard.ZstdCompressor(level=3).compress(raw_json)

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            document = json.loads(raw.decode("utf-8", "surrogateescape"))
            if document.get("version") != FORMAT_VERSION:
                raise ManifestError(f"unsupported manifest version {document.get('version')!r}")
            names = document["fields"]
            entries = [Entry(**dict(zip(names, row, strict=True))) for row in document["entries"]]
            return cls(
                run_id=int(document["run_id"]), kind=document["kind"], parent_id=document["parent_id"],
                created_at=document["created_at"], archive_format=document["archive_format"],
                db_engine=document.get("db_engine", ""), sources=list(document.get("sources", [])),
                entries=entries, deleted=list(document.get("deleted", [])),
            )
        except ManifestError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestError(f"manifest is not readable: {exc}") from exc

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            raw = zstandard.ZstdDecompressor().decompress(data)
        except zstandard.ZstdError as exc:
            raise ManifestError(f"manifest is not readable: {exc}") from exc
        return cls.from_json(raw)


class ContentIndex:
    """Known file contents, by size then SHA-256 -> (run, member) holding the bytes.

    Sizes come first so that a file is hashed before storing only when some known
    content has its size; files of a new size are stored (and hashed) in one read.
    """

    def __init__(self, entries: Iterable[Entry] = ()):
        self._by_size: dict[int, dict[str, tuple[int, str]]] = {}
        for entry in entries:
            if entry.type == FILE and entry.stored_in is not None:
                self.add(entry.size, entry.sha256, entry.stored_in, entry.member)

    def add(self, size: int, sha256: str, run_id: int, member: str) -> None:
        self._by_size.setdefault(size, {}).setdefault(sha256, (run_id, member))

    def has_size(self, size: int) -> bool:
        return size in self._by_size

    def find(self, size: int, sha256: str) -> tuple[int, str] | None:
        return self._by_size.get(size, {}).get(sha256)
