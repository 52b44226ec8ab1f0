"""Database snapshots: SQLite's online backup API, pg_dump / pg_restore."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest

from backups.engine import database as db


def test_sqlite_snapshot_is_consistent_while_a_writer_keeps_writing(tmp_path):
    live = tmp_path / "live.sqlite3"
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")
    conn.executemany("INSERT INTO t (payload) VALUES (?)", [("x" * 500,)] * 5000)
    conn.commit()
    stop = threading.Event()

    def writer():
        other = sqlite3.connect(live, timeout=30)
        while not stop.is_set():
            other.execute("INSERT INTO t (payload) VALUES ('y')")
            other.commit()
        other.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        db.sqlite_dump(live, tmp_path / "dump.sqlite3")
    finally:
        stop.set()
        thread.join()
    dump = sqlite3.connect(tmp_path / "dump.sqlite3")
    assert dump.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert dump.execute("SELECT count(*) FROM t").fetchone()[0] >= 5000
    assert db.dump_engine(tmp_path / "dump.sqlite3") == db.SQLITE


def test_sqlite_load_replaces_the_live_content(tmp_path):
    live = tmp_path / "live.sqlite3"
    conn = sqlite3.connect(live)
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("INSERT INTO t VALUES ('before')")
    conn.commit()
    db.sqlite_copy(conn, tmp_path / "dump.sqlite3")
    conn.execute("UPDATE t SET v = 'after'")
    conn.commit()
    conn.close()
    db.sqlite_load(tmp_path / "dump.sqlite3", live)
    assert sqlite3.connect(live).execute("SELECT v FROM t").fetchall() == [("before",)]


def test_a_damaged_sqlite_dump_is_not_loaded(tmp_path):
    (tmp_path / "bad.sqlite3").write_bytes(b"SQLite format 3\0" + os.urandom(4096))
    live = tmp_path / "live.sqlite3"
    sqlite3.connect(live).execute("CREATE TABLE t (v TEXT)")
    with pytest.raises(db.DatabaseBackupError):
        db.sqlite_load(tmp_path / "bad.sqlite3", live)


def test_an_unknown_dump_format_is_named(tmp_path):
    (tmp_path / "x").write_bytes(b"hello")
    with pytest.raises(db.DatabaseBackupError, match="not a SQLite database nor a pg_dump"):
        db.dump_engine(tmp_path / "x")


def test_pg_dump_and_restore_round_trip(scratch_pg, tmp_path):
    import psycopg

    params, conninfo = scratch_pg
    with psycopg.connect(**conninfo) as conn:
        conn.execute("CREATE TABLE course (id serial PRIMARY KEY, title text)")
        conn.execute("INSERT INTO course (title) VALUES ('Álgebra'), ('Física')")
    db.pg_dump(params, tmp_path / "dump.pgdump")
    assert db.dump_engine(tmp_path / "dump.pgdump") == db.POSTGRESQL
    with psycopg.connect(**conninfo) as conn:
        conn.execute("DELETE FROM course")
        conn.execute("CREATE TABLE later (x int)")
    db.pg_restore(params, tmp_path / "dump.pgdump")
    with psycopg.connect(**conninfo) as conn:
        assert [r[0] for r in conn.execute("SELECT title FROM course ORDER BY id")] == ["Álgebra", "Física"]


def test_pg_dump_failure_is_a_clear_error(tmp_path):
    params = db.PgParams(name="no_such_database_xyz", host="127.0.0.1", port="1")
    with pytest.raises(db.DatabaseBackupError, match="pg_dump failed|not installed"):
        db.pg_dump(params, tmp_path / "dump.pgdump")


def test_a_connection_inside_a_transaction_is_copied_with_its_own_view(tmp_path):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.commit()
    conn.execute("INSERT INTO t VALUES ('uncommitted but ours')")
    assert conn.in_transaction
    db.sqlite_copy(conn, tmp_path / "dump.sqlite3")
    assert sqlite3.connect(tmp_path / "dump.sqlite3").execute("SELECT v FROM t").fetchall() == [
        ("uncommitted but ours",)]
