"""Celery task metrics from a real worker on the real broker, and the collect task end to end."""

from __future__ import annotations

from monitoring import selectors
from monitoring.models import SystemSnapshot
from monitoring.recorder import recorder
from tests.cache.conftest import wait_until


def task_runs(name: str) -> dict[str, int]:
    recorder().flush()
    stats = selectors.totals().tasks.get(name)
    return {} if stats is None else stats.states


def test_a_task_run_is_counted_by_name_and_state_with_its_runtime(celery_worker):
    from monitoring.tasks import collect_system

    collect_system.delay()
    assert wait_until(lambda: task_runs("monitoring.tasks.collect_system") == {"success": 1}, timeout=20)
    stats = selectors.totals().tasks["monitoring.tasks.collect_system"]
    assert stats.runtime_us > 0 and sum(stats.histogram) == 1
    assert SystemSnapshot.objects.count() == 1  # the task did its job: one sample
    # The sample queued the alert evaluation: let it end before the teardown empties the tables it locks.
    assert wait_until(lambda: "success" in task_runs("monitoring.alerting.tasks.evaluate_alerts"), timeout=20)


def test_a_failing_task_is_counted_as_a_failure():
    from monitoring import task_metrics

    class Task:
        name = "some.failing.task"

    task_metrics.on_prerun(task_id="x")
    task_metrics.on_postrun(sender=Task(), task_id="x", state="FAILURE")
    assert task_runs("some.failing.task") == {"failure": 1}
