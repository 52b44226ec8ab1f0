"""Consistent database snapshots, and loading them back.

SQLite: the online backup API copies the database page by page into a new file while other
connections keep writing (each step sees a consistent state; the copy restarts on changes
from other connections, which SQLite handles). PostgreSQL: `pg_dump --format=custom` runs in
one repeatable-read transaction, so the dump is a snapshot while the app keeps writing;
`pg_restore` loads it in a single transaction. Both stream through files on disk: memory
stays flat whatever the database size.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SQLITE, POSTGRESQL = "sqlite", "postgresql"
DUMP_NAMES = {SQLITE: "db.sqlite3", POSTGRESQL: "database.pgdump"}
_STDERR_LIMIT = 4000


class DatabaseBackupError(Exception):
    """A dump or a restore that failed; the message says why."""


@dataclass(frozen=True)
class PgParams:
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    def env(self) -> dict[str, str]:
        # The password travels in the environment of the child only, never on a command line.
        env = {**os.environ, "PGDATABASE": self.name, "PGCONNECT_TIMEOUT": "10"}
        for key, value in (("PGHOST", self.host), ("PGPORT", self.port), ("PGUSER", self.user),
                           ("PGPASSWORD", self.password)):
            if value:
                env[key] = value
            else:
                env.pop(key, None)
        return env


def sqlite_dump(source: Path, target: Path, *, progress: Callable[[int, int], None] | None = None) -> None:
    """Copy a live SQLite database into `target` (a new file) with the online backup API."""
    if not source.exists():
        raise DatabaseBackupError(f"SQLite database {source} does not exist")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=4096, progress=_sqlite_progress(progress))
    except sqlite3.Error as exc:
        raise DatabaseBackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def sqlite_copy(connection: sqlite3.Connection, target: Path, *,
                progress: Callable[[int, int], None] | None = None) -> None:
    """Like sqlite_dump, from an open connection (an in-memory database too)."""
    if connection.in_transaction:
        _sqlite_copy_sql(connection, target)
        return
    dst = sqlite3.connect(target)
    try:
        connection.backup(dst, pages=4096, progress=_sqlite_progress(progress))
    except sqlite3.Error as exc:
        raise DatabaseBackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        dst.close()


def _sqlite_copy_sql(connection: sqlite3.Connection, target: Path) -> None:
    # The backup API waits forever on a database its own connection is writing (a caller
    # inside a transaction); a dump, statement by statement, sees that connection's view.
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        for statement in connection.iterdump():
            dst.execute(statement)
    except sqlite3.Error as exc:
        raise DatabaseBackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        dst.close()


def sqlite_load_into(dump: Path, connection: sqlite3.Connection) -> None:
    """Replace the content of an open database with the dump's."""
    src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        check = src.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise DatabaseBackupError(f"the SQLite dump fails its integrity check: {check}")
        src.backup(connection)
    except sqlite3.Error as exc:
        raise DatabaseBackupError(f"SQLite restore failed: {exc}") from exc
    finally:
        src.close()


def sqlite_load(dump: Path, live: Path) -> None:
    """Replace the content of the live database with the dump's, through the backup API
    (one transaction on the live file: readers see the old or the new database)."""
    src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        check = src.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise DatabaseBackupError(f"the SQLite dump fails its integrity check: {check}")
        src.backup(dst)
    except sqlite3.Error as exc:
        raise DatabaseBackupError(f"SQLite restore failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _sqlite_progress(progress: Callable[[int, int], None] | None) -> Callable[[int, int, int], None] | None:
    if progress is None:
        return None

    def step(status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total)

    return step


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, check=False)
    except FileNotFoundError as exc:
        raise DatabaseBackupError(f"{what}: {args[0]} is not installed (install the PostgreSQL client)") from exc
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()[-_STDERR_LIMIT:]
        raise DatabaseBackupError(f"{what} failed (exit {result.returncode}): {message}")


def pg_dump(params: PgParams, target: Path, *, binary: str = "pg_dump") -> None:
    """A consistent snapshot of the database in pg_dump's custom format."""
    _run([binary, "--format=custom", "--compress=0", "--no-password", f"--file={target}"], params.env(), "pg_dump")


def pg_restore(params: PgParams, dump: Path, *, binary: str = "pg_restore") -> None:
    """Load a custom-format dump, dropping what it replaces, all in one transaction."""
    _run([binary, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", "--no-password", f"--dbname={params.name}", str(dump)], params.env(), "pg_restore")


def dump_engine(path: Path) -> str:
    """Which engine wrote a dump file, from its first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"SQLite format 3\0"):
        return SQLITE
    if head.startswith(b"PGDMP"):
        return POSTGRESQL
    raise DatabaseBackupError(f"{path.name} is not a SQLite database nor a pg_dump custom archive")
