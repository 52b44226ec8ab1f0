"""The live database: which engine, dumping it for a run, loading a run's dump back."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection

from backups.engine import database as dbengine
from backups.engine.manifest import Manifest
from tecnocursos.core.exceptions import ApplicationError


def db_params() -> dbengine.PgParams:
    conf = connection.settings_dict
    return dbengine.PgParams(name=conf["NAME"], host=str(conf.get("HOST") or ""), port=str(conf.get("PORT") or ""),
                             user=str(conf.get("USER") or ""), password=str(conf.get("PASSWORD") or ""))


def current_db_engine() -> str:
    vendor = connection.vendor
    if vendor == "sqlite":
        return dbengine.SQLITE
    if vendor == "postgresql":
        return dbengine.POSTGRESQL
    raise ApplicationError(f"Database engine {vendor!r} cannot be backed up (SQLite and PostgreSQL can).")


def dump_database(scratch: Path) -> tuple[Path, str]:
    engine = current_db_engine()
    target = scratch / dbengine.DUMP_NAMES[engine]
    if engine == dbengine.SQLITE:
        connection.ensure_connection()
        dbengine.sqlite_copy(connection.connection, target)
    else:
        dbengine.pg_dump(db_params(), target, binary=settings.BACKUP_PG_DUMP)
    return target, engine


def database_entry(manifest: Manifest) -> str:
    engine = manifest.db_engine
    if not engine:
        raise ApplicationError("This run holds no database.")
    current = current_db_engine()
    if engine != current:
        raise ApplicationError(
            f"This run holds a {engine} database and the current database is {current}: restoring across "
            "engines is refused (migrate with dumpdata/loaddata instead).", status_code=409)
    return f"database/{dbengine.DUMP_NAMES[engine]}"


def load_database(dump: Path, engine: str) -> None:
    if dbengine.dump_engine(dump) != engine:
        raise ApplicationError(f"{dump.name} is not a {engine} dump.")
    if engine == dbengine.SQLITE:
        connection.ensure_connection()
        dbengine.sqlite_load_into(dump, connection.connection)
    else:
        connection.close()  # pg_restore drops tables this connection may hold locks on
        dbengine.pg_restore(db_params(), dump, binary=settings.BACKUP_PG_RESTORE)
