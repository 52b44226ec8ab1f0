"""Opening the stored archives of a run and of the runs it needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from backups import keys
from backups.engine.archive import Member
from backups.engine.manifest import Manifest
from backups.engine.pipeline import ArchiveInfo, read_archive
from backups.models import BackupRun
from backups.services.common import scratch_root
from backups.storage import destination_for
from tecnocursos.core.exceptions import ApplicationError


def archive_info(run: BackupRun) -> ArchiveInfo:
    return ArchiveInfo(run_id=run.id, archive_format=run.archive_format, encrypted=run.encrypted,
                       sha256=run.checksum, size=run.bytes_out)


@contextmanager
def open_members(run: BackupRun) -> Iterator[Iterator[Member]]:
    ring = keys.key_ring() if run.encrypted else None
    with destination_for(run.destination).open(run.archive_name) as raw, \
            read_archive(raw, archive_info(run), ring=ring, spool_dir=scratch_root(), checksum=False) as members:
        yield members


def run_chain(run: BackupRun, manifest: Manifest) -> dict[int, BackupRun]:
    """The run and every run whose archive holds bytes of its tree, all completed."""
    needed = manifest.depends_on() | {run.id}
    runs = {r.id: r for r in BackupRun.objects.filter(id__in=needed, status=BackupRun.Status.COMPLETED)}
    missing = sorted(needed - set(runs))
    if missing:
        raise ApplicationError(f"Run {run.id} needs the archives of runs {missing}, which are gone or incomplete.",
                               status_code=409)
    return runs
