"""Key rotation and re-encryption of stored archives."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from backups import keys
from backups.engine.archive import suffix
from backups.engine.crypto import CryptoError, DecryptingReader, EncryptingWriter, Key
from backups.engine.streams import COPY_BLOCK, HashingReader, HashingWriter
from backups.models import BackupRun
from backups.storage import destination_for


def key_rotate(*, reencrypt: bool = False, progress: Callable[[BackupRun], None] | None = None
               ) -> tuple[Key, list[int]]:
    """Add a new current key; with `reencrypt`, rewrite every encrypted archive under it."""
    key = keys.key_add()
    done: list[int] = []
    if reencrypt:
        for run in BackupRun.objects.filter(status=BackupRun.Status.COMPLETED, encrypted=True) \
                .exclude(key_id=key.id).select_related("config"):
            if progress is not None:
                progress(run)
            run_reencrypt(run=run, key=key)
            done.append(run.id)
    return key, done


def run_reencrypt(*, run: BackupRun, key: Key) -> BackupRun:
    """Decrypt the archive with its key and encrypt it with `key` under a new name; the run
    points at the new archive only once it is complete, then the old one is deleted."""
    destination = destination_for(run.destination)
    ring = keys.key_ring()
    stem = run.archive_name.removesuffix(suffix(run.archive_format, True))
    name = f"{stem.split('.rk-')[0]}.rk-{key.id}{suffix(run.archive_format, True)}"
    writer = destination.writer(name)
    try:
        with destination.open(run.archive_name) as raw:
            hashed_in = HashingReader(raw)
            stored = HashingWriter(writer)
            plain = DecryptingReader(hashed_in, ring)
            with EncryptingWriter(stored, key, chunk_size=settings.BACKUP_CHUNK_BYTES) as encrypter:
                while block := plain.read(COPY_BLOCK):
                    encrypter.write(block)
            hashed_in.drain()
        if hashed_in.hexdigest() != run.checksum:
            raise CryptoError(f"archive of run {run.id} does not match its recorded SHA-256; not re-encrypting")
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    old = run.archive_name
    BackupRun.objects.filter(id=run.id).update(archive_name=name, checksum=stored.hexdigest(),
                                               bytes_out=stored.count, key_id=key.id)
    destination.delete(old)
    run.refresh_from_db()
    return run
