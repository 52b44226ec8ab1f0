"""The key ring, from the environment: never from the database, never logged.

`BACKUP_ENCRYPTION_KEYS` holds `id:base64` keys (comma-separated, oldest first); the file
named by `BACKUP_KEY_FILE` holds one `id:base64` per line (oldest first) and is where
`backup rotate-key` appends. The ring is the variable's keys then the file's; its last key
encrypts new runs, every key still decrypts.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from backups.engine.crypto import Key, KeyRing, KeyRingError, generate_key, parse_key

ENV_VAR = "BACKUP_ENCRYPTION_KEYS"


def _file_keys(path: Path) -> list[Key]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KeyRingError(f"cannot read the key file {path}: {exc.strerror}") from exc
    if path.stat().st_mode & 0o077:
        raise KeyRingError(f"the key file {path} is readable by others: chmod 600 it")
    return [parse_key(line) for line in text.splitlines() if line.strip() and not line.startswith("#")]


def key_ring() -> KeyRing:
    inline = [parse_key(item) for item in os.environ.get(ENV_VAR, "").split(",") if item.strip()]
    return KeyRing(inline + _file_keys(Path(settings.BACKUP_KEY_FILE)))


def key_add() -> Key:
    """A new random key, appended to the key file (written whole to a temporary file,
    fsynced and renamed: a crash never leaves a half-written ring)."""
    path = Path(settings.BACKUP_KEY_FILE)
    existing = _file_keys(path)
    key = generate_key(f"k{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("# backup keys, oldest first; the last one encrypts. Keep a copy offline.\n")
            handle.writelines(f"{k.encoded()}\n" for k in [*existing, key])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return key
