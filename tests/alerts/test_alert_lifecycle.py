"""The engine end to end on samples, with a fake clock: pending, `for`, firing, hysteresis,
`keep_firing_for`, acknowledge, silence, repeat, resolve; one alert per fingerprint and a
history row per transition."""

from __future__ import annotations

import pytest

from monitoring.alerting import services
from monitoring.alerting.models import Alert, AlertEvent
from tests.alerts.conftest import at, evaluate, make_rule, sample

pytestmark = pytest.mark.django_db


def kinds(alert: Alert) -> list[str]:
    return list(alert.events.order_by("at", "id").values_list("kind", flat=True))


def notified(alert: Alert) -> list[str]:
    return list(alert.events.filter(notified=True).order_by("at", "id").values_list("kind", flat=True))


def test_a_static_rule_goes_pending_fires_and_resolves_with_hysteresis(no_default_rules, t0):
    rule = make_rule(threshold=90, clear_threshold=80, for_seconds=60, keep_firing_for_seconds=0)
    for offset, cpu, expected in [(0, 50, None), (10, 95, "pending"), (40, 96, "pending"), (70, 95, "firing"),
                                  (80, 85, "firing"),  # below 90, above the clear threshold: still firing
                                  (90, 79, "resolved")]:
        sample(t0 + offset, cpu_percent=cpu)
        evaluate(rule, t0 + offset)
        alert = Alert.objects.filter(rule=rule).first()
        assert (alert.state if alert else None) == expected, offset
    assert alert.started_at == at(t0 + 10) and alert.fired_at == at(t0 + 70) and alert.resolved_at == at(t0 + 90)
    assert kinds(alert) == ["pending", "firing", "resolved"]
    assert notified(alert) == ["firing", "resolved"]
    assert alert.value == 79 and alert.threshold == 90


def test_a_short_breach_never_fires(no_default_rules, t0):
    rule = make_rule(for_seconds=60)
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    sample(t0 + 30, cpu_percent=50)
    evaluate(rule, t0 + 30)
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "resolved" and alert.fired_at is None
    assert kinds(alert) == ["pending", "resolved"] and notified(alert) == []


def test_keep_firing_for_rides_out_a_dip(no_default_rules, t0):
    rule = make_rule(keep_firing_for_seconds=60)
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    sample(t0 + 30, cpu_percent=10)
    evaluate(rule, t0 + 30)
    assert Alert.objects.get(rule=rule).state == "firing"
    sample(t0 + 61, cpu_percent=10)
    evaluate(rule, t0 + 61)
    assert Alert.objects.get(rule=rule).state == "resolved"


def test_it_repeats_unless_acknowledged(no_default_rules, t0, staff):
    rule = make_rule(repeat_interval_seconds=300)
    for offset in (0, 100, 300, 600):
        sample(t0 + offset, cpu_percent=99)
        evaluate(rule, t0 + offset)
    alert = Alert.objects.get(rule=rule)
    assert notified(alert) == ["firing", "repeat", "repeat"]
    services.alert_acknowledge(alert=alert, user=staff, comment="on it")
    sample(t0 + 1200, cpu_percent=99)
    evaluate(rule, t0 + 1200)
    assert notified(alert) == ["firing", "repeat", "repeat"]
    assert alert.events.get(kind="acknowledged").actor == staff
    sample(t0 + 1210, cpu_percent=1)
    evaluate(rule, t0 + 1210)
    assert notified(alert)[-1] == "resolved"


def test_a_silence_mutes_the_alert_and_its_recurrence_until_it_ends(no_default_rules, t0, staff):
    rule = make_rule()
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    alert = Alert.objects.get(rule=rule)
    services.alert_silence(alert=alert, user=staff, until=at(t0 + 10_000))
    for offset, cpu in ((10, 1), (20, 99)):  # resolves (muted), recurs (muted)
        sample(t0 + offset, cpu_percent=cpu)
        evaluate(rule, t0 + offset)
    recurrence = Alert.objects.filter(rule=rule).exclude(id=alert.id).get()
    assert recurrence.state == "firing" and recurrence.fingerprint == alert.fingerprint
    assert notified(alert) == ["firing"] and notified(recurrence) == []
    assert services.alert_unsilence(alert=recurrence, user=staff) == 1
    sample(t0 + 30, cpu_percent=99)
    evaluate(rule, t0 + 30)
    assert notified(recurrence) == ["notified"]  # the silence ended while it fired


def test_one_alert_per_fingerprint_each_host_its_own(no_default_rules, t0):
    rule = make_rule()
    sample(t0, host="a", cpu_percent=99)
    sample(t0, host="b", cpu_percent=99)
    evaluate(rule, t0)
    sample(t0 + 10, host="a", cpu_percent=99)
    sample(t0 + 10, host="b", cpu_percent=99)
    evaluate(rule, t0 + 10)
    alerts = Alert.objects.filter(rule=rule)
    assert sorted(a.labels["host"] for a in alerts) == ["a", "b"]
    assert len({a.fingerprint for a in alerts}) == 2


def test_evaluating_the_same_moment_again_is_skipped(no_default_rules, t0):
    rule = make_rule()
    sample(t0, cpu_percent=99)
    assert evaluate(rule, t0) == "evaluated"
    assert evaluate(rule, t0) == "skipped"
    assert evaluate(rule, t0 - 5) == "skipped"  # an older evaluation arriving late
    assert AlertEvent.objects.filter(alert__rule=rule).count() == 2  # pending, firing


def test_a_stale_sample_is_no_data_and_resolves(no_default_rules, t0):
    rule = make_rule()
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    from monitoring.models import SystemSnapshot

    SystemSnapshot.objects.update(timestamp=at(t0 - 3600))  # collection stopped an hour ago
    evaluate(rule, t0 + 10)
    assert Alert.objects.get(rule=rule).state == "resolved"


def test_a_broken_template_falls_back_and_an_unknown_metric_is_reported(no_default_rules, t0):
    rule = make_rule(summary="{value:d} {value.real}")
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    assert "cpu_percent is 99% (above 90%)" in Alert.objects.get(rule=rule).message
    from monitoring.alerting.models import AlertRule

    AlertRule.objects.filter(id=rule.id).update(metric="no_such_metric")
    assert evaluate(rule, t0 + 10) == "evaluated"
    rule.refresh_from_db()
    assert "unknown metric" in rule.last_error
    assert Alert.objects.get(rule=rule).state == "resolved"


def test_a_disabled_rule_is_not_evaluated(no_default_rules, t0):
    rule = make_rule(enabled=False)
    sample(t0, cpu_percent=99)
    assert evaluate(rule, t0) == "disabled"
    assert not Alert.objects.exists()
