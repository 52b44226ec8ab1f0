"""`manage.py backup ...`: exit codes, one-line errors, output operators script against."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backups.models import BackupRun
from tests.backups.conftest import tree_digest
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


def backup(*args: str) -> str:
    out = StringIO()
    call_command("backup", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def config(media_tree, backup_env):
    return make_config(name="media")


def test_run_prints_the_run_id(config):
    run_id = int(backup("run", "media").strip())
    assert BackupRun.objects.get(id=run_id).status == "completed"
    second = int(backup("run", "media", "--kind", "full").strip())
    assert BackupRun.objects.get(id=second).kind == "full"


def test_run_of_an_unknown_config_fails_with_one_line():
    with pytest.raises(CommandError, match="No backup configuration named 'nope'"):
        backup("run", "nope")


def test_a_failed_run_exits_non_zero(config, settings):
    config.extra_directories = ["missing"]
    config.save()
    with pytest.raises(CommandError, match="failed"):
        backup("run", "media")


def test_list_shows_runs_newest_first(config):
    first = int(backup("run", "media"))
    second = int(backup("run", "media"))
    lines = backup("list", "media").splitlines()
    assert lines[0].split() == ["id", "config", "kind", "status", "size", "checksum"]
    assert [int(line.split()[0]) for line in lines[1:]] == [second, first]
    assert BackupRun.objects.get(id=first).checksum in lines[2]
    with pytest.raises(CommandError):
        backup("list", "nope")


def test_verify_exits_zero_when_sound_and_non_zero_on_damage(config, backup_env):
    run_id = backup("run", "media").strip()
    assert "OK" in backup("verify", run_id)
    run = BackupRun.objects.get(id=run_id)
    path = backup_env["root"].joinpath(*run.archive_name.split("/"))
    blob = bytearray(path.read_bytes())
    blob[100] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(CommandError, match="failed verification"):
        backup("verify", run_id)
    with pytest.raises(CommandError, match="not found"):
        backup("verify", "424242")


def test_restore_into_a_new_directory(config, media_tree, tmp_path):
    run_id = backup("run", "media").strip()
    out = backup("restore", run_id, "--target", str(tmp_path / "restored"))
    assert "restored into" in out
    assert tree_digest(tmp_path / "restored" / "media") == tree_digest(media_tree)
    with pytest.raises(CommandError, match="not empty"):
        backup("restore", run_id, "--target", str(tmp_path / "restored"))
    with pytest.raises(CommandError, match="--target"):
        backup("restore", run_id)


def test_restoring_the_database_needs_yes_and_the_same_engine(config, tmp_path):
    run_id = backup("run", "media").strip()
    with pytest.raises(CommandError, match="--yes"):
        backup("restore", run_id, "--database")
    with pytest.raises(CommandError, match="holds no database"):
        backup("restore", run_id, "--database", "--yes")


def test_prune_dry_run_then_for_real(config):
    config.keep_last = 1
    config.kind_policy = "full"
    config.save()
    ids = [int(backup("run", "media")) for _ in range(3)]
    out = backup("prune", "media", "--dry-run")
    assert f"would remove {ids[1]}, {ids[0]}" in out
    assert BackupRun.objects.filter(id__in=ids).count() == 3
    out = backup("prune", "media")
    assert f"removed {ids[1]}, {ids[0]}" in out
    assert list(BackupRun.objects.filter(config=config).values_list("id", flat=True)) == [ids[2]]


def test_rotate_key_prints_the_new_key_id_and_reencrypts(config):
    run_id = int(backup("run", "media"))
    out = backup("rotate-key", "--reencrypt")
    new_id = out.splitlines()[0].split(": ")[1]
    assert BackupRun.objects.get(id=run_id).key_id == new_id
    assert f"re-encrypted runs: {run_id}" in out


def test_a_subcommand_is_required():
    with pytest.raises(CommandError):
        call_command("backup")


def test_a_terminal_gets_a_progress_bar(config, monkeypatch, capsys):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    call_command("backup", "run", "media")
    assert "%|" in capsys.readouterr().err  # tqdm's bar
    call_command("backup", "run", "media", "--no-progress")
    assert "%|" not in capsys.readouterr().err
