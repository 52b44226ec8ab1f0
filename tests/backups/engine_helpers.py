"""Running the engine alone, archives kept in memory (no Django)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from backups.engine.archive import Member
from backups.engine.crypto import Key, KeyRing
from backups.engine.manifest import Manifest
from backups.engine.pipeline import ArchiveInfo, BackupResult, BackupSpec, read_archive, write_backup
from backups.engine.restore import RestoreReport, restore_tree
from backups.engine.scan import Source


@dataclass
class MemoryStore:
    fmt: str = "tar.zst"
    key: Key | None = None
    archives: dict[int, bytes] = field(default_factory=dict)
    infos: dict[int, ArchiveInfo] = field(default_factory=dict)
    manifests: dict[int, Manifest] = field(default_factory=dict)
    results: dict[int, BackupResult] = field(default_factory=dict)

    @property
    def ring(self) -> KeyRing | None:
        return KeyRing([self.key]) if self.key else None

    def backup(self, run_id: int, root: Path, *, kind: str = "full", base: int | None = None) -> BackupResult:
        sink = io.BytesIO()
        spec = BackupSpec(run_id=run_id, kind=kind, parent_id=base, created_at="2026-11-25T00:00:00+00:00",
                          archive_format=self.fmt, sources=[Source("media", root)],
                          base=self.manifests[base] if base is not None else None)
        result = write_backup(spec, sink, key=self.key, chunk_size=4096)
        self.archives[run_id] = sink.getvalue()
        self.infos[run_id] = ArchiveInfo(run_id, self.fmt, self.key is not None, result.sha256, result.bytes_out)
        self.manifests[run_id] = result.manifest
        self.results[run_id] = result
        return result

    @contextmanager
    def open_run(self, run_id: int) -> Iterator[Iterator[Member]]:
        with read_archive(io.BytesIO(self.archives[run_id]), self.infos[run_id], ring=self.ring) as members:
            yield members

    def restore(self, run_id: int, target: Path) -> RestoreReport:
        target.mkdir(parents=True, exist_ok=True)
        return restore_tree(self.manifests[run_id], target, self.open_run)
