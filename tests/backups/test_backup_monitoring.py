"""The backups as monitoring sees them: the seeded "Backup failed or missing" rule fires for a
configuration whose latest run failed, and /metrics carries backup_last_success_timestamp_seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from backups.models import BackupConfig, BackupRun
from backups.selectors import backup_facts
from monitoring.alerting.models import Alert, AlertRule
from monitoring.alerting.services import rules_evaluate
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db


def run(config, status: str) -> BackupRun:
    return BackupRun.objects.create(config=config, kind="full", status=status, finished_at=timezone.now())


def test_a_failed_latest_run_fires_the_seeded_backup_rule(backup_env):
    good, bad = make_config(name="good"), make_config(name="bad")
    run(good, "completed")
    run(bad, "completed")
    run(bad, "failed")
    facts = {fact["config"]: fact for fact in backup_facts()}
    assert facts["good"]["last_status"] == "completed" and facts["bad"]["last_status"] == "failed"
    rule = AlertRule.objects.get(name="Backup failed or missing")
    rules_evaluate(rule_ids=[rule.id])
    firing = {alert.labels.get("config") for alert in Alert.objects.filter(rule=rule, state="firing")}
    # The seeded configurations have never succeeded, but they were created just now: not missing yet.
    assert firing == {"bad"}


def test_a_configuration_that_never_succeeded_is_missing_once_its_maximum_age_has_passed(backup_env):
    BackupConfig.objects.filter(name="system").update(created_at=timezone.now() - timedelta(days=3))
    rule = AlertRule.objects.get(name="Backup failed or missing")
    rules_evaluate(rule_ids=[rule.id])
    firing = {alert.labels.get("config") for alert in Alert.objects.filter(rule=rule, state="firing")}
    assert firing == {"system"}


def test_metrics_carry_the_last_success_of_each_configuration(backup_env, staff_client):
    config = make_config(name="nightly")
    finished = run(config, "completed").finished_at
    text = staff_client.get("/metrics").content.decode()
    samples = {
        sample.labels.get("config"): sample.value
        for family in text_string_to_metric_families(text) if family.name == "backup_last_success_timestamp_seconds"
        for sample in family.samples
    }
    assert samples["nightly"] == pytest.approx(finished.timestamp())
