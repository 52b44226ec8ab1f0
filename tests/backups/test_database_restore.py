"""Restoring the database: same engine only, with the data of the run."""

from __future__ import annotations

import pytest
from django.db import connection

from backups import services
from backups.engine import database as db
from tecnocursos.core.exceptions import ApplicationError
from tests.backups.helpers import make_config


@pytest.mark.django_db(transaction=True)
def test_a_postgresql_run_restores_into_a_database(backup_env, scratch_pg, monkeypatch, owner):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    import psycopg

    params, conninfo = scratch_pg
    run = services.backup_run_now(config=make_config(include_media=False, include_database=True))
    assert run.status == "completed", run.error
    monkeypatch.setattr(services.database, "db_params", lambda: params)  # load into the scratch database
    outcome = services.backup_restore(run=run, target=None, database=True)
    assert outcome.database_loaded
    with psycopg.connect(**conninfo) as conn:
        users = [r[0] for r in conn.execute("SELECT username FROM auth_user")]
        configs = {r[0] for r in conn.execute("SELECT name FROM backups_backupconfig")}
    assert users == ["owner"] and "media" in configs
    assert not [p for p in (backup_env["root"] / ".scratch").iterdir()]  # staging removed


@pytest.mark.django_db
def test_restoring_into_another_engine_is_refused(backup_env, media_tree, monkeypatch, tmp_path):
    run = services.backup_run_now(config=make_config(include_database=True))
    other = db.SQLITE if run.db_engine == db.POSTGRESQL else db.POSTGRESQL
    monkeypatch.setattr(services.database, "current_db_engine", lambda: other)
    with pytest.raises(ApplicationError, match=f"holds a {run.db_engine} database .* is {other}"):
        services.backup_restore(run=run, target=tmp_path / "r", database=True)
    assert not (tmp_path / "r").exists()


@pytest.mark.django_db
def test_the_engine_is_recorded_in_the_run_and_its_manifest(backup_env):
    from backups.selectors import manifest_of

    run = services.backup_run_now(config=make_config(include_media=False, include_database=True))
    assert run.db_engine == services.current_db_engine()
    manifest = manifest_of(run=run)
    assert manifest.db_engine == run.db_engine
    assert f"database/{db.DUMP_NAMES[run.db_engine]}" in manifest.by_path()


@pytest.mark.django_db
def test_after_a_database_restore_the_run_it_came_from_is_completed_again(backup_env, monkeypatch):
    from backups.models import BackupManifest, BackupRun
    from backups.services import restore

    run = services.backup_run_now(config=make_config(include_media=False, include_database=True))

    def load_a_snapshot_taken_mid_run(dump, engine):
        # What loading the dump does to the history: its run was running when it was taken.
        BackupRun.objects.filter(id=run.id).update(status="running", checksum="", archive_name="")
        BackupManifest.objects.filter(run_id=run.id).delete()

    monkeypatch.setattr(restore, "load_database", load_a_snapshot_taken_mid_run)
    services.backup_restore(run=run, target=None, database=True)
    again = BackupRun.objects.get(id=run.id)
    assert (again.status, again.checksum, again.archive_name) == ("completed", run.checksum, run.archive_name)
    assert services.backup_verify(run=again).ok
