"""The optimizer's actions: opt-in, dry runs, the audit, L1 trimming under memory pressure,
Celery pool sizing through Celery's pool control; the command and the admin."""

from __future__ import annotations

import json
import os
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from monitoring.optimizer import services
from monitoring.optimizer.models import OptimizationAction
from monitoring.optimizer.pool import PoolPolicy, pool_change
from tecnocursos.core.exceptions import ApplicationError
from tests.alerts.conftest import sample

pytestmark = pytest.mark.django_db
OLD = time.time() - 3 * 86400


@pytest.fixture
def temp_dir(tmp_path, settings):
    directory = tmp_path / "scratch"
    directory.mkdir()
    for name in ("a.tmp", "b.tmp"):
        (directory / name).write_bytes(b"y" * 50)
        os.utime(directory / name, (OLD, OLD))
    settings.MONITORING_OPTIMIZER_TEMP_DIRS = [str(directory)]
    return directory


def test_nothing_runs_unless_enabled(temp_dir, settings):
    settings.MONITORING_OPTIMIZER_ACTIONS = []
    from monitoring.optimizer.tasks import run_optimizer

    assert run_optimizer() == 0
    with pytest.raises(ApplicationError, match="Not enabled"):
        services.optimizations_run(actions=["temp_cleanup"], dry_run=False)
    assert len(list(temp_dir.iterdir())) == 2 and not OptimizationAction.objects.exists()


def test_a_disabled_action_can_be_previewed(temp_dir, settings):
    settings.MONITORING_OPTIMIZER_ACTIONS = []
    [row] = services.optimizations_run(actions=["temp_cleanup"], dry_run=True, trigger="command")
    assert (row.status, row.items, row.bytes_freed) == ("dry_run", 2, 100)
    assert sorted(row.details["files"]) == ["a.tmp", "b.tmp"] and len(list(temp_dir.iterdir())) == 2


def test_an_enabled_action_runs_and_is_audited(temp_dir, settings):
    settings.MONITORING_OPTIMIZER_ACTIONS = ["temp_cleanup"]
    [row] = services.optimizations_run()
    assert (row.action, row.status, row.items, row.bytes_freed, row.trigger) == ("temp_cleanup", "done", 2, 100,
                                                                                  "schedule")
    assert row.target == str(temp_dir) and "24 h" in row.reason and list(temp_dir.iterdir()) == []
    assert services.optimizations_run() == []  # nothing left: a periodic run records nothing


def test_an_unsafe_directory_is_refused_and_recorded(settings, tmp_path):
    settings.MONITORING_OPTIMIZER_ACTIONS = ["temp_cleanup"]
    settings.MONITORING_OPTIMIZER_TEMP_DIRS = [f"{tmp_path}/../etc"]
    [row] = services.optimizations_run()
    assert row.status == "failed" and "'..'" in row.error


def test_unknown_actions_are_refused(db):
    with pytest.raises(ApplicationError, match="Unknown"):
        services.optimizations_run(actions=["defrag"], dry_run=True)


def test_l1_is_trimmed_only_under_memory_pressure(settings, t0, default_cache):
    settings.MONITORING_OPTIMIZER_ACTIONS = ["l1_trim"]
    settings.MONITORING_OPTIMIZER_L1_TRIM_MEMORY_PERCENT = 90
    default_cache.set("warm", "value" * 100)
    engine = default_cache.engine
    assert engine.l1.contains(default_cache.make_and_validate_key("warm"))
    sample(t0, memory_percent=50.0)
    assert services.optimizations_run() == []
    sample(t0 + 10, memory_percent=95.0)
    [row] = services.optimizations_run()
    assert row.status == "done" and "95.0%" in row.reason and row.items >= 1 and row.bytes_freed > 0
    assert len(engine.l1) == 0 and default_cache.get("warm") == "value" * 100  # L2 still has it


class FakeControl:
    def __init__(self, stats: dict) -> None:
        self._stats = stats
        self.calls: list[tuple[str, int, list[str]]] = []

    def inspect(self, timeout: float):
        control = self

        class Inspect:
            def stats(self):
                return control._stats

        return Inspect()

    def pool_grow(self, n: int, destination: list[str]) -> None:
        self.calls.append(("grow", n, destination))

    def pool_shrink(self, n: int, destination: list[str]) -> None:
        self.calls.append(("shrink", n, destination))


def prefork(size: int) -> dict:
    return {"pool": {"implementation": "celery.concurrency.prefork:TaskPool", "max-concurrency": size}}


@pytest.fixture
def control(monkeypatch, settings):
    settings.MONITORING_OPTIMIZER_ACTIONS = ["celery_pool"]
    settings.MONITORING_OPTIMIZER_CELERY_MIN_CONCURRENCY = 1
    settings.MONITORING_OPTIMIZER_CELERY_MAX_CONCURRENCY = 4
    fake = FakeControl({"w1@host": prefork(2), "w2@host": prefork(4),
                        "solo@host": {"pool": {"implementation": "celery.concurrency.solo:TaskPool"}}})
    monkeypatch.setattr(services, "celery_control", lambda: fake)
    return fake


def test_a_growing_backlog_grows_pools_within_bounds(control, t0):
    for i, waiting in enumerate((30, 45, 60)):
        sample(t0 + 10 * i, celery_queue_length=waiting)
    rows = services.optimizations_run()
    assert control.calls == [("grow", 1, ["w1@host"])]  # w2 is at the maximum, solo cannot grow
    [row] = rows
    assert row.target == "w1@host" and row.details["from"] == 2 and row.details["to"] == 3


def test_a_dry_run_does_not_touch_the_pool(control, t0):
    sample(t0, celery_queue_length=100)
    rows = services.optimizations_run(actions=["celery_pool"], dry_run=True, trigger="admin")
    assert control.calls == [] and {r.status for r in rows} == {"dry_run"}


def test_pool_policy():
    policy = PoolPolicy(minimum=1, maximum=4, grow_per_process=10, shrink_after_idle_samples=3)
    assert pool_change(waiting=[5, 30], current=2, policy=policy)[0] == 1
    assert pool_change(waiting=[80, 30], current=2, policy=policy)[0] == 0  # draining already
    assert pool_change(waiting=[0, 0, 0], current=3, policy=policy)[0] == -1
    assert pool_change(waiting=[0, 0, 0], current=1, policy=policy)[0] == 0  # at the minimum
    assert pool_change(waiting=[1, 0, 0], current=3, policy=policy)[0] == 0
    assert pool_change(waiting=[], current=3, policy=policy)[0] == 0


def test_the_optimize_command(temp_dir, settings):
    settings.MONITORING_OPTIMIZER_ACTIONS = []
    with pytest.raises(CommandError, match="No optimizer action is enabled"):
        call_command("optimize")
    out = StringIO()
    call_command("optimize", "--dry-run", "--action", "temp_cleanup", stdout=out)
    assert json.loads(out.getvalue())[0]["status"] == "dry_run" and len(list(temp_dir.iterdir())) == 2
    settings.MONITORING_OPTIMIZER_ACTIONS = ["temp_cleanup"]
    call_command("optimize", stdout=StringIO())
    assert list(temp_dir.iterdir()) == []


def test_the_alerts_command(db, no_default_rules):
    out = StringIO()
    call_command("alerts", "evaluate", stdout=out)
    assert json.loads(out.getvalue()) == {}
    out = StringIO()
    call_command("alerts", "rules", stdout=out)
    assert {"Disk will fill within 4 h"} <= {rule["name"] for rule in json.loads(out.getvalue())}


def test_the_admin_previews_and_runs(client, temp_dir, settings, django_user_model):
    settings.MONITORING_OPTIMIZER_ACTIONS = ["temp_cleanup"]
    client.force_login(django_user_model.objects.create_superuser("op", "op@example.com", "pw-op-123456"))
    page = client.get("/admin/monitoring/optimizationaction/")
    assert page.status_code == 200 and b"temp_cleanup" in page.content
    client.post("/admin/monitoring/optimizationaction/run/dry-run/")
    assert OptimizationAction.objects.filter(status="dry_run").exists() and len(list(temp_dir.iterdir())) == 2
    client.post("/admin/monitoring/optimizationaction/run/apply/")
    assert OptimizationAction.objects.filter(status="done", trigger="admin").exists()
    assert list(temp_dir.iterdir()) == []
