"""Predictive, adaptive and anomaly rules on rolled-up history, end to end."""

from __future__ import annotations

import random

import pytest

from monitoring.alerting.models import Alert, AlertRule
from monitoring.models import MetricRollup, Tier
from tests.alerts.conftest import at, evaluate, make_rule, sample

pytestmark = pytest.mark.django_db
HOUR = 3600


def minutes(metric: str, t_end: float, values, host: str = "h1", labels: str = "") -> None:
    """Minute rollups ending at t_end, one per value (oldest first)."""
    rows = []
    count = len(values)
    for i, value in enumerate(values):
        bucket = (int(t_end) // 60 - (count - i)) * 60
        rows.append(MetricRollup(tier=Tier.MINUTE, bucket=at(bucket), host=host, metric=metric, labels=labels,
                                 count=6, sum=6 * value, min=value, max=value))
    MetricRollup.objects.bulk_create(rows)


def fill(start: float, per_hour: float, n: int, noise: float = 0.0, seed: int = 2) -> list[float]:
    rng = random.Random(seed)
    return [start + per_hour * i / 60 + rng.gauss(0, noise) for i in range(n)]


def test_a_filling_disk_fires_the_seeded_rules_after_an_hour(t0):
    # 6 h at 3 %/h from 62 % -> 80 % now: full in ~6.7 h (the 24 h rule), not within 4 h.
    minutes("disk_percent", t0, fill(62.0, 3.0, 360, noise=0.2))
    sample(t0, disk_percent=80.0)
    warning = AlertRule.objects.get(name="Disk will fill within 24 h")
    critical = AlertRule.objects.get(name="Disk will fill within 4 h")
    for rule in (warning, critical):
        evaluate(rule, t0)
    assert warning.alerts.get().state == "pending" and not critical.alerts.exists()
    minutes("disk_percent", t0 + HOUR, fill(80.0, 3.0, 60, noise=0.2, seed=3))
    sample(t0 + HOUR, disk_percent=83.0)
    evaluate(warning, t0 + HOUR)
    alert = warning.alerts.get()
    assert alert.state == "firing" and alert.threshold == 60.0
    eta = alert.details["forecast"]["seconds_to_limit"]
    assert eta == pytest.approx((100 - 83) / 3 * HOUR, rel=0.10)
    assert alert.message.startswith("Data disk on h1 full in ~5.") and alert.message.endswith("(83% used)")


def test_a_flat_full_disk_is_not_predicted_to_fill(t0):
    minutes("disk_percent", t0, fill(88.0, 0.0, 360, noise=0.5))
    sample(t0, disk_percent=88.0)
    rule = AlertRule.objects.get(name="Disk will fill within 24 h")
    evaluate(rule, t0)
    evaluate(rule, t0 + 2 * HOUR)
    assert not rule.alerts.exists()


def test_the_guard_holds_a_filling_but_mostly_empty_disk(t0):
    minutes("disk_percent", t0, fill(20.0, 3.0, 360))
    sample(t0, disk_percent=38.0)
    rule = AlertRule.objects.get(name="Disk will fill within 24 h")  # full in ~21 h, but 62 % free
    evaluate(rule, t0)
    assert not rule.alerts.exists()


def test_an_adaptive_rule_fires_outside_its_band_and_shows_it(no_default_rules, t0, staff_client):
    rng = random.Random(9)
    minutes("cpu_percent", t0, [20 + rng.gauss(0, 2) for _ in range(240)])
    rule = make_rule(kind="adaptive", metric="cpu_percent", threshold=None, window_seconds=4 * HOUR, sensitivity=4)
    sample(t0, cpu_percent=24.0)
    evaluate(rule, t0)
    assert not rule.alerts.exists()
    sample(t0 + 10, cpu_percent=45.0)
    evaluate(rule, t0 + 10)
    [alert] = staff_client.get("/api/analytics/alerts").json()
    band = alert["band"]
    assert band["seasonality"] == "none" and band["low"] < 20 < band["high"] < 45
    assert alert["threshold"] == pytest.approx(band["high"])
    assert "outside its usual band" in alert["message"]


def test_an_adaptive_rule_without_history_is_learning(no_default_rules, t0):
    rule = make_rule(kind="adaptive", threshold=None, window_seconds=HOUR)
    sample(t0, cpu_percent=99.0)
    evaluate(rule, t0)
    rule.refresh_from_db()
    assert not rule.alerts.exists() and rule.last_error == ""


def test_an_anomaly_rule_fires_on_a_spike_with_the_robust_zscore_scorer(no_default_rules, t0, staff_client,
                                                                       settings):
    settings.MONITORING_ALERTS_ANOMALY_SCORER = "monitoring.alerting.scoring.robust_zscore"
    rng = random.Random(4)
    minutes("memory_percent", t0, [40 + rng.gauss(0, 1) for _ in range(120)])
    rule = make_rule(kind="anomaly", metric="memory_percent", threshold=0.9, window_seconds=2 * HOUR)
    sample(t0, memory_percent=40.5)
    evaluate(rule, t0)
    assert not rule.alerts.exists()
    sample(t0 + 10, memory_percent=70.0)
    evaluate(rule, t0 + 10)
    [alert] = staff_client.get("/api/analytics/alerts").json()
    assert alert["score"] > 0.9 and alert["kind"] == "anomaly"


def test_an_anomaly_rule_fires_on_a_sustained_shift_with_the_engine(no_default_rules, t0, staff_client):
    rng = random.Random(4)
    minutes("memory_percent", t0, [40 + rng.gauss(0, 1) for _ in range(400)])
    rule = make_rule(kind="anomaly", metric="memory_percent", threshold=0.9, window_seconds=8 * HOUR)
    sample(t0, memory_percent=40.5)
    evaluate(rule, t0)
    assert not rule.alerts.exists()
    for step in range(1, 9):  # memory jumps and stays up: the engine's models agree and it persists
        sample(t0 + 10 * step, memory_percent=70.0 + rng.gauss(0, 1))
        evaluate(rule, t0 + 10 * step)
    [alert] = staff_client.get("/api/analytics/alerts").json()
    assert alert["score"] == 1.0 and alert["kind"] == "anomaly"


def constant_scorer(values, state):
    return 0.95, {"calls": (state or {}).get("calls", 0) + 1, "seen": len(values)}


def broken_scorer(values, state):
    return float("nan"), {}


def test_the_anomaly_scorer_is_pluggable_and_keeps_its_state(no_default_rules, t0, settings):
    settings.MONITORING_ALERTS_ANOMALY_SCORER = "tests.alerts.test_smart_rules.constant_scorer"
    minutes("memory_percent", t0, [40.0] * 30)
    rule = make_rule(kind="anomaly", metric="memory_percent", threshold=0.9, window_seconds=HOUR)
    for offset in (0, 10):
        sample(t0 + offset, memory_percent=41.0)
        evaluate(rule, t0 + offset)
    rule.refresh_from_db()
    [state] = rule.state["series"].values()
    assert state["scorer"] == {"calls": 2, "seen": 31} and Alert.objects.get().state == "firing"


def test_a_broken_scorer_is_reported_on_the_rule(no_default_rules, t0, settings):
    settings.MONITORING_ALERTS_ANOMALY_SCORER = "tests.alerts.test_smart_rules.broken_scorer"
    rule = make_rule(kind="anomaly", metric="memory_percent", threshold=0.9)
    sample(t0, memory_percent=41.0)
    assert evaluate(rule, t0) == "evaluated"
    rule.refresh_from_db()
    assert "anomaly scorer" in rule.last_error and not rule.alerts.exists()


@pytest.mark.parametrize(("fields", "field"), [
    ({"metric": "nope"}, "metric"), ({"kind": "adaptive", "metric": "health_check_failing"}, "kind"),
    ({"threshold": None}, "threshold"), ({"clear_threshold": 95}, "clear_threshold"),
    ({"kind": "predictive", "limit": None, "horizon_seconds": 3600}, "limit"),
    ({"kind": "anomaly", "threshold": 3}, "threshold"), ({"comparison": "outside"}, "comparison"),
    ({"labels": {"team": 1}}, "labels"),
])
def test_an_inconsistent_rule_is_refused(db, fields, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        make_rule(**fields)
    assert field in error.value.message_dict
