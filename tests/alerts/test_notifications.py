"""Notifications: staff get realtime notifications; webhooks (Slack, Teams, Alertmanager JSON) are
delivered by Celery and retried with backoff against a local HTTP server; a failing webhook or
broker never holds the engine."""

from __future__ import annotations

import time

import pytest

from monitoring.alerting import notify
from monitoring.alerting.models import Alert, AlertEvent, AlertWebhook, WebhookDelivery
from monitoring.alerting.tasks import deliver_webhook
from realtime.models import Notification
from tests.alerts.conftest import evaluate, make_rule, sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_backoff(settings):
    settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_SECONDS = 0.01
    settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_MAX_SECONDS = 0.05
    settings.MONITORING_ALERTS_WEBHOOK_TIMEOUT = 2.0


def fire(t0: float, **rule_fields) -> AlertEvent:
    rule = make_rule(name="CPU", severity="critical", **rule_fields)
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    return AlertEvent.objects.get(alert__rule=rule, notified=True)


def shape(body: dict) -> str:
    if body.get("version") == "4":
        return "alertmanager"
    if body.get("type") == "message":
        return "teams"
    return "slack" if "color" in body["attachments"][0] else "?"


def webhook(url: str, **fields) -> AlertWebhook:
    return AlertWebhook.objects.create(name=fields.pop("name", "ops"), url=url, **fields)


def test_a_firing_alert_notifies_every_active_staff_user_once(no_default_rules, t0, staff, owner):
    from tests.conftest import make_user

    other_staff = make_user("other-staff", staff=True)
    make_user("gone-staff", staff=True).__class__.objects.filter(username="gone-staff").update(is_active=False)
    event = fire(t0)
    assert notify.event_dispatch(event_id=event.id) == 0  # no webhook configured
    assert notify.event_dispatch(event_id=event.id) == 0  # claimed once: nothing twice
    notes = Notification.objects.filter(title__startswith="[CRITICAL] CPU")
    assert sorted(n.user.username for n in notes) == sorted(["staff", other_staff.username])
    assert {n.level for n in notes} == {"error"}


def test_webhooks_get_their_format(no_default_rules, t0, receiver, fast_backoff):
    for name, format_ in (("slack", "slack"), ("teams", "teams"), ("am", "alertmanager")):
        webhook(receiver.url, name=name, format=format_)
    webhook(receiver.url, name="only-critical-resolved-off", min_severity="critical", send_resolved=False)
    webhook(receiver.url, name="disabled", enabled=False)
    event = fire(t0)
    assert notify.event_dispatch(event_id=event.id) == 4
    for delivery in WebhookDelivery.objects.all():
        deliver_webhook.apply(args=[delivery.id])
    assert WebhookDelivery.objects.filter(status="sent").count() == 4
    assert sorted(shape(b) for b in receiver.bodies) == ["alertmanager", "alertmanager", "slack", "teams"]
    [alertmanager, *_] = [b for b in receiver.bodies if b.get("version") == "4"]
    assert alertmanager["status"] == "firing" and alertmanager["alerts"][0]["labels"]["alertname"] == "CPU"


def test_a_failing_webhook_is_retried_with_backoff_until_it_answers(no_default_rules, t0, receiver, fast_backoff):
    webhook(receiver.url, authorization="Bearer s3cret")
    receiver.statuses = [503, 500, 429]
    notify.event_dispatch(event_id=fire(t0).id)
    delivery = WebhookDelivery.objects.get()
    deliver_webhook.apply(args=[delivery.id])  # eagerly: each retry runs at once
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 4, 200)
    assert len(receiver.bodies) == 4 and receiver.bodies[0] == receiver.bodies[-1]
    assert receiver.headers[0]["Authorization"] == "Bearer s3cret"


def test_a_client_error_is_not_retried(no_default_rules, t0, receiver, fast_backoff):
    webhook(receiver.url)
    receiver.statuses = [404]
    notify.event_dispatch(event_id=fire(t0).id)
    delivery = WebhookDelivery.objects.get()
    deliver_webhook.apply(args=[delivery.id])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "HTTP 404")


def test_it_gives_up_after_the_maximum_attempts(no_default_rules, t0, receiver, fast_backoff, settings):
    settings.MONITORING_ALERTS_WEBHOOK_MAX_ATTEMPTS = 3
    webhook(receiver.url)
    receiver.statuses = [500] * 10
    notify.event_dispatch(event_id=fire(t0).id)
    delivery = WebhookDelivery.objects.get()
    deliver_webhook.apply(args=[delivery.id])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3) and len(receiver.bodies) == 3


def test_an_unreachable_webhook_is_retried_later(no_default_rules, t0, settings):
    settings.MONITORING_ALERTS_WEBHOOK_TIMEOUT = 1.0
    webhook("http://127.0.0.1:9/nothing-listens")
    notify.event_dispatch(event_id=fire(t0).id)
    outcome = notify.delivery_attempt(delivery_id=WebhookDelivery.objects.get().id)
    assert outcome.status == "retry" and outcome.retry_in >= settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_SECONDS
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "Connection refused" in delivery.last_error


def test_retry_after_is_honoured(no_default_rules, t0, receiver, settings):
    settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_SECONDS = 0.01
    webhook(receiver.url)
    receiver.statuses = [429]
    notify.event_dispatch(event_id=fire(t0).id)
    outcome = notify.delivery_attempt(delivery_id=WebhookDelivery.objects.get().id)
    assert outcome.status == "retry" and outcome.retry_in >= 1.0


def test_backoff_doubles_up_to_its_cap(settings):
    settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_SECONDS = 10
    settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_MAX_SECONDS = 60
    delays = [notify.backoff_seconds(n) for n in (1, 2, 3, 4, 5)]
    for delay, base in zip(delays, (10, 20, 40, 60, 60), strict=True):
        assert base <= delay <= base * 1.1


def test_the_engine_never_waits_for_a_webhook(no_default_rules, t0, receiver, django_capture_on_commit_callbacks):
    webhook(receiver.url)
    receiver.delay = 5.0
    start = time.monotonic()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fire(t0)
    assert time.monotonic() - start < 5.0 and receiver.bodies == []
    assert len(callbacks) == 2  # the dispatch and the dashboard's live push (monitoring/live.py), after the commit
    assert AlertEvent.objects.get(notified=True).dispatched_at is None


def test_a_broker_outage_does_not_break_evaluation_and_the_sweep_catches_up(
        no_default_rules, t0, monkeypatch, django_capture_on_commit_callbacks):
    from monitoring.alerting import tasks

    def broker_down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.dispatch_alert_event, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        event = fire(t0)
    assert Alert.objects.get().state == "firing"
    AlertEvent.objects.filter(id=event.id).update(at=event.at.replace(year=event.at.year - 1))
    assert notify.notifications_sweep()["events"] == 1
    assert AlertEvent.objects.get(id=event.id).dispatched_at is not None


def test_a_resolution_is_sent_to_webhooks_that_want_it(no_default_rules, t0, receiver, fast_backoff):
    webhook(receiver.url, name="resolved")
    webhook(receiver.url, name="no-resolved", send_resolved=False)
    rule = make_rule(name="CPU")
    sample(t0, cpu_percent=99)
    evaluate(rule, t0)
    sample(t0 + 10, cpu_percent=1)
    evaluate(rule, t0 + 10)
    resolved = AlertEvent.objects.get(kind="resolved")
    assert resolved.notified and notify.event_dispatch(event_id=resolved.id) == 1
    deliver_webhook.apply(args=[WebhookDelivery.objects.get(event=resolved).id])
    assert receiver.bodies[-1]["status"] == "resolved" and receiver.bodies[-1]["alerts"][0]["endsAt"] != (
        "0001-01-01T00:00:00Z")


def test_the_webhook_test_action_reports_what_happened(db, receiver):
    assert notify.webhook_test(webhook=webhook(receiver.url)) == "sent (HTTP 200)"
    receiver.statuses = [500]
    assert notify.webhook_test(webhook=AlertWebhook.objects.get()) == "failed: HTTP 500"
    assert "only http" in notify.webhook_test(webhook=webhook("ftp://x/y", name="ftp"))
