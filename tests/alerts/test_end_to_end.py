"""Through a real Celery worker on the real broker: a collection triggers an evaluation, the
firing alert is dispatched, and the webhook receives Alertmanager's JSON; staff are notified."""

from __future__ import annotations

import time

import pytest

from monitoring.alerting.models import AlertRule, AlertWebhook
from monitoring.tasks import collect_system
from realtime.models import Notification
from tests.alerts.conftest import make_rule


@pytest.mark.slow
def test_a_collection_ends_in_a_webhook_and_a_staff_notification(celery_worker, receiver, staff, settings):
    AlertRule.objects.update(enabled=False)
    make_rule(name="Cores present", metric="cpu_count", threshold=0, severity="info")  # true on any machine
    AlertWebhook.objects.create(name="generic", url=receiver.url, min_severity="info")
    collect_system.delay()
    deadline = time.monotonic() + 30
    while not receiver.bodies and time.monotonic() < deadline:
        time.sleep(0.1)
    assert receiver.bodies, "no webhook call within 30 s"
    [alert] = receiver.bodies[0]["alerts"]
    assert alert["status"] == "firing" and alert["labels"]["alertname"] == "Cores present"
    assert Notification.objects.filter(user=staff, title__contains="Cores present").exists()
