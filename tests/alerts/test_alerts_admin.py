"""The operator's admin: rules are created and validated there; alerts are acknowledged and
silenced from their list; webhooks get a test message."""

from __future__ import annotations

import pytest

from monitoring.alerting.models import Alert, AlertRule, AlertSilence
from tests.alerts.conftest import evaluate, make_rule, sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("op", "op@example.com", "pw-op-123456"))
    return client


RULE_FORM = {"name": "Swap storm", "description": "", "enabled": "on", "metric": "swap_out_bytes_per_second",
             "kind": "static", "severity": "critical", "labels": "{}", "summary": "", "comparison": "above",
             "threshold": "1000000", "clear_threshold": "500000", "window_seconds": "300", "sensitivity": "3",
             "band_floor": "0", "limit": "", "horizon_seconds": "", "for_seconds": "60",
             "keep_firing_for_seconds": "0", "repeat_interval_seconds": "3600"}


def test_a_rule_is_created_in_the_admin_and_validated(operator_client):
    bad = operator_client.post("/admin/monitoring/alertrule/add/", {**RULE_FORM, "clear_threshold": "2000000"})
    assert bad.status_code == 200 and b"safe side of the threshold" in bad.content
    good = operator_client.post("/admin/monitoring/alertrule/add/", RULE_FORM)
    assert good.status_code == 302
    assert AlertRule.objects.get(name="Swap storm").clear_threshold == 500000


def test_alerts_are_acknowledged_and_silenced_from_their_list(operator_client, no_default_rules, t0):
    rule = make_rule(name="CPU")
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    alert = Alert.objects.get()
    for action in ("acknowledge", "silence_1h"):
        response = operator_client.post("/admin/monitoring/alert/", {"action": action, "_selected_action": [alert.id]})
        assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by.username == "op" and AlertSilence.objects.get().fingerprint == alert.fingerprint
    page = operator_client.get(f"/admin/monitoring/alert/{alert.id}/change/")
    assert page.status_code == 200 and b"acknowledged" in page.content


def test_a_webhook_test_message_from_the_admin(operator_client, receiver):
    from monitoring.alerting.models import AlertWebhook

    webhook = AlertWebhook.objects.create(name="ops", url=receiver.url, format="slack")
    response = operator_client.post("/admin/monitoring/alertwebhook/", {"action": "send_test",
                                                                         "_selected_action": [webhook.id]},
                                    follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["ops: sent (HTTP 200)"], messages
    assert receiver.bodies[0]["text"].startswith("[INFO] Test alert")
