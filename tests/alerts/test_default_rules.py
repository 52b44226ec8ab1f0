"""The rules seeded by the migration, evaluated on real data paths: no errors without data,
backup facts through the setting (the backups app may not exist), health checks, requests,
and the alerts in /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.alerting import services
from monitoring.alerting.models import Alert, AlertRule
from tests.alerts.conftest import at, evaluate, make_rule, sample

pytestmark = pytest.mark.django_db

SEEDED = {"CPU saturated", "Memory pressure", "Disk almost full", "Disk will fill within 24 h",
          "Disk will fill within 4 h", "High error rate", "Slow responses (p95)", "Celery backlog",
          "Backup failed or missing", "Health check failing"}


def test_the_migration_seeds_the_default_rules_and_they_are_valid():
    rules = {rule.name: rule for rule in AlertRule.objects.all()}
    assert SEEDED <= set(rules)
    for rule in rules.values():
        rule.full_clean()
    assert rules["Disk will fill within 24 h"].kind == "predictive"
    assert (rules["Disk will fill within 4 h"].threshold, rules["Disk will fill within 4 h"].horizon_seconds) == (
        80.0, 4 * 3600)


def test_every_default_rule_evaluates_without_data_and_without_error(t0, settings):
    settings.MONITORING_ALERTS_BACKUP_FACTS = ""
    outcome = services.rules_evaluate(now=at(t0))
    assert outcome == {"evaluated": len(SEEDED)}
    assert list(AlertRule.objects.exclude(last_error="").values_list("name", "last_error")) == []
    # No sample, no traffic, no backup facts: nothing to say (the health checks are real: no worker here).
    assert not Alert.objects.filter(rule__name__in=SEEDED - {"Health check failing"}).exists()


def test_a_backup_facts_setting_that_does_not_import_yet_is_no_data(t0, settings):
    settings.MONITORING_ALERTS_BACKUP_FACTS = "backups.selectors.alert_facts_not_built_yet"
    rule = AlertRule.objects.get(name="Backup failed or missing")
    assert evaluate(rule, t0) == "evaluated"
    rule.refresh_from_db()
    assert "cannot import" in rule.last_error and not rule.alerts.exists()


FACTS: list[dict] = []


def backup_facts() -> list[dict]:
    return FACTS


def test_failed_and_missing_backups_fire_per_configuration(t0, settings):
    settings.MONITORING_ALERTS_BACKUP_FACTS = "tests.alerts.test_default_rules.backup_facts"
    now = datetime.now(tz=UTC)
    FACTS[:] = [
        {"config": "nightly", "last_status": "failed", "last_success_at": now - timedelta(hours=1)},
        {"config": "weekly", "last_status": "succeeded", "last_success_at": now - timedelta(days=2),
         "max_age_seconds": 8 * 86400},
        {"config": "hourly", "last_status": "succeeded", "last_success_at": (now - timedelta(hours=30)).timestamp()},
        {"config": "new", "last_status": None, "last_success_at": None},
        # Never succeeded: missing only once the maximum age has passed since backups became due.
        {"config": "just-created", "last_status": None, "last_success_at": None, "since": now - timedelta(hours=1)},
        {"config": "never-ran", "last_status": "queued", "last_success_at": None, "since": now - timedelta(days=3)},
    ]
    rule = AlertRule.objects.get(name="Backup failed or missing")
    evaluate(rule, t0)
    firing = {a.labels["config"]: a for a in rule.alerts.filter(state="firing")}
    assert sorted(firing) == ["hourly", "never-ran", "new", "nightly"]
    assert firing["nightly"].severity == "critical" and "nightly" in firing["nightly"].message


def test_a_failing_health_check_fires_after_two_minutes(t0, monkeypatch):
    from monitoring import health

    def failing_report():
        ok = health.CheckResult("database", True, 1.0, True, "ok")
        bad = health.CheckResult("celery", False, 1.0, False, "no worker heartbeat")
        return health.HealthReport("degraded", {"database": ok, "celery": bad}, t0)

    monkeypatch.setattr(health, "report", failing_report)
    rule = AlertRule.objects.get(name="Health check failing")
    evaluate(rule, t0)
    evaluate(rule, t0 + 120)
    alert = rule.alerts.get()
    assert alert.state == "firing" and alert.labels == {"check": "celery"}
    assert alert.message == "Health check celery failing for 2 min"


def test_error_rate_needs_enough_requests(no_default_rules, t0, settings):
    from monitoring import redis_store
    from monitoring.aggregator import Aggregator

    settings.MONITORING_ALERTS_MIN_REQUESTS = 20
    rule = make_rule(metric="http_error_rate", threshold=5, window_seconds=300)
    aggregator = Aggregator()
    for status in [500] * 3 + [200] * 7:
        aggregator.record_request("GET", "upload-list", status, 0.01)
    redis_store.flush(aggregator.drain(), server="test")
    evaluate(rule, t0)
    assert not Alert.objects.exists()  # 10 requests: not enough to judge
    for status in [500] * 3 + [200] * 27:
        aggregator.record_request("GET", "upload-list", status, 0.01)
    redis_store.flush(aggregator.drain(), server="test")
    evaluate(rule, t0 + 10)
    alert = Alert.objects.get()
    assert alert.state == "firing" and alert.value == pytest.approx(15.0)


def test_alerts_firing_is_in_metrics_per_severity(no_default_rules, t0, staff_client):
    rule = make_rule(severity="critical")
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    make_rule(name="pending", threshold=10, for_seconds=600, severity="info")
    evaluate(AlertRule.objects.get(name="pending"), t0)
    text = staff_client.get("/metrics").content.decode()
    values = {(f.name, s.labels.get("severity")): s.value for f in text_string_to_metric_families(text)
              for s in f.samples if f.name in ("alerts_firing", "alerts_pending")}
    assert values[("alerts_firing", "critical")] == 1 and values[("alerts_firing", "warning")] == 0
    assert values[("alerts_pending", "info")] == 1
