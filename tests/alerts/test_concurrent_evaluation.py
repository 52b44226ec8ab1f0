"""Two workers evaluating at once: one alert, one history row per transition, one notification.

Each thread has its own database connection (real transactions); the first one to lock a rule
is slowed down so that the other one arrives while it holds the lock."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from monitoring.alerting import judge as judge_module
from monitoring.alerting import services
from monitoring.alerting.models import Alert, AlertEvent
from tests.alerts.conftest import at, make_rule, sample

pytestmark = pytest.mark.django_db(transaction=True)


def race(moments: list[float], rule_ids: list[int]) -> list[dict[str, int]]:
    barrier = threading.Barrier(len(moments))
    results: list[dict[str, int]] = [{} for _ in moments]

    def run(index: int, moment: float) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = services.rules_evaluate(now=at(moment), rule_ids=rule_ids)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate(moments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def slow_judge(monkeypatch):
    real = judge_module.judge

    def slow(*args, **kwargs):
        time.sleep(0.3)  # holding the rule's lock
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "judge", slow)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers; row locks are PostgreSQL's")
def test_two_workers_at_the_same_moment_make_one_alert(no_default_rules, t0, slow_judge):
    rules = [make_rule(name=f"r{i}", for_seconds=0) for i in range(3)]
    sample(t0, cpu_percent=99)
    results = race([t0, t0], [r.id for r in rules])
    outcomes = sorted(k for result in results for k, n in result.items() for _ in range(n))
    assert "failed" not in outcomes and outcomes.count("evaluated") == 3
    assert Alert.objects.count() == 3
    assert sorted(AlertEvent.objects.values_list("kind", flat=True)) == ["firing"] * 3 + ["pending"] * 3
    assert AlertEvent.objects.filter(notified=True).count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers; row locks are PostgreSQL's")
def test_racing_evaluations_of_successive_moments_keep_the_lifecycle_consistent(no_default_rules, t0, slow_judge):
    rule = make_rule(for_seconds=5)
    sample(t0, cpu_percent=99)
    race([t0, t0 + 10, t0 + 10], [rule.id])
    alert = Alert.objects.get(rule=rule)
    kinds = list(alert.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds in (["pending", "firing"], ["pending"])  # t0+10 first: firing needs another pass
    assert AlertEvent.objects.filter(alert=alert, kind="pending").count() == 1
