"""Notifications of alert events: staff (realtime's notification service, live and kept) and
webhooks (Slack, Teams, Alertmanager JSON), each delivery retried with backoff by Celery.

The engine only marks an event `notified` and queues its dispatch after commit; nothing here
runs inside an evaluation, so a slow or failing webhook never holds the engine. Each step is
claimed with a conditional update (an event is dispatched once, a delivery attempted by one
worker at a time); a periodic sweep requeues what a lost message or a dead worker left behind.
"""

from __future__ import annotations

import json
import logging
import random
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring.alerting import payloads
from monitoring.alerting.models import AlertEvent, AlertWebhook, Severity, WebhookDelivery
from realtime.services import notification_send

logger = logging.getLogger(__name__)

LEVELS = {Severity.CRITICAL: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
RETRYABLE_STATUSES = {408, 425, 429}
STUCK_SENDING = timedelta(minutes=10)
LOST_AFTER = timedelta(minutes=1)


# --- the engine's side: queue after commit -------------------------------------------------------


def event_queue(*, event_id: int) -> None:
    """Dispatch this event's notifications once the evaluation commits (a broker outage is logged;
    the sweep picks the event up later)."""
    def send() -> None:
        from monitoring.alerting.tasks import dispatch_alert_event

        dispatch_alert_event.delay(event_id)

    transaction.on_commit(send, robust=True)


def _queue_delivery(delivery_id: int) -> None:
    def send() -> None:
        from monitoring.alerting.tasks import deliver_webhook

        deliver_webhook.delay(delivery_id)

    transaction.on_commit(send, robust=True)


# --- dispatch: staff and webhooks ------------------------------------------------------------------


def alert_message(event: AlertEvent) -> payloads.AlertMessage:
    alert = event.alert
    notice = {AlertEvent.Kind.RESOLVED: "resolved", AlertEvent.Kind.REPEAT: "repeat"}.get(
        AlertEvent.Kind(event.kind), "firing")
    base = settings.MONITORING_ALERTS_EXTERNAL_URL.rstrip("/")
    return payloads.AlertMessage(
        notice=notice, rule=alert.rule.name, severity=alert.severity, summary=alert.message or alert.rule.name,
        fingerprint=alert.fingerprint, started_at=alert.started_at.timestamp(), value=alert.value,
        threshold=alert.threshold, ended_at=alert.resolved_at.timestamp() if alert.resolved_at else None,
        labels={str(k): str(v) for k, v in (alert.labels or {}).items()},
        url=f"{base}/admin/monitoring/alert/{alert.id}/change/" if base else "",
    )


def event_dispatch(*, event_id: int) -> int:
    """Notify staff and create this event's webhook deliveries; how many deliveries were queued."""
    claimed = AlertEvent.objects.filter(id=event_id, notified=True, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now())
    if claimed != 1:
        return 0  # dispatched already (a duplicate message), or not meant to notify
    event = AlertEvent.objects.select_related("alert__rule").get(id=event_id)
    message = alert_message(event)
    queued = _deliveries_create(event, message)
    if settings.MONITORING_ALERTS_NOTIFY_STAFF:
        _notify_staff(message)
    return queued


def _deliveries_create(event: AlertEvent, message: payloads.AlertMessage) -> int:
    webhooks = [w for w in AlertWebhook.objects.filter(enabled=True)
                if w.wants(severity=message.severity, resolved=message.status == "resolved")]
    now = timezone.now()
    with transaction.atomic():
        for webhook in webhooks:
            delivery = WebhookDelivery.objects.create(webhook=webhook, event=event, next_attempt_at=now,
                                                      payload=body_for(webhook, message))
            _queue_delivery(delivery.id)
    return len(webhooks)


def body_for(webhook: AlertWebhook, message: payloads.AlertMessage) -> dict[str, Any]:
    if webhook.format == AlertWebhook.Format.ALERTMANAGER:
        return payloads.alertmanager(message, receiver=webhook.name,
                                     external_url=settings.MONITORING_ALERTS_EXTERNAL_URL)
    return payloads.FORMATS[webhook.format](message)


def _notify_staff(message: payloads.AlertMessage) -> None:
    level = "success" if message.status == "resolved" else LEVELS.get(Severity(message.severity), "warning")
    for user in get_user_model().objects.filter(is_staff=True, is_active=True):
        try:
            notification_send(user=user, title=message.title, message=message.summary, level=level)
        except Exception:  # the channel layer down: the stored notifications stay readable
            logger.warning("alerts: staff notification to %s failed", user.pk, exc_info=True)


# --- delivery ------------------------------------------------------------------------------------------


class DeliveryError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


def post_json(url: str, body: dict[str, Any], *, timeout: float, authorization: str = "") -> int:
    """POST `body`; the status code of a 2xx answer, DeliveryError otherwise."""
    if not url.lower().startswith(("http://", "https://")):
        raise DeliveryError("only http and https webhooks are supported", retryable=False)
    headers = {"Content-Type": "application/json", "User-Agent": "tecnocursos-alerts/1"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        retry_after = exc.headers.get("Retry-After") if exc.headers else None
        raise DeliveryError(f"HTTP {exc.code}", status=exc.code,
                            retryable=exc.code >= 500 or exc.code in RETRYABLE_STATUSES,
                            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{type(exc).__name__}: {reason}"[:300]) from exc


def backoff_seconds(attempt: int) -> float:
    """Exponential from MONITORING_ALERTS_WEBHOOK_BACKOFF_SECONDS, capped, with up to 10 % jitter."""
    base = float(settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_SECONDS)
    delay = min(float(settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_MAX_SECONDS), base * 2 ** max(0, attempt - 1))
    return delay * (1 + random.uniform(0, 0.1))


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, retry, failed, skipped
    retry_in: float | None = None


def delivery_attempt(*, delivery_id: int) -> Outcome:
    """One attempt of a pending delivery (claimed: two workers never send it at once)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return Outcome("skipped")
    delivery = WebhookDelivery.objects.select_related("webhook").get(id=delivery_id)
    try:
        code = post_json(delivery.webhook.url, delivery.payload, authorization=delivery.webhook.authorization,
                         timeout=float(settings.MONITORING_ALERTS_WEBHOOK_TIMEOUT))
    except DeliveryError as exc:
        return _failed_attempt(delivery, exc)
    WebhookDelivery.objects.filter(id=delivery.id).update(status=WebhookDelivery.Status.SENT, sent_at=timezone.now(),
                                                          last_status_code=code, last_error="")
    return Outcome("sent")


def _failed_attempt(delivery: WebhookDelivery, exc: DeliveryError) -> Outcome:
    final = not exc.retryable or delivery.attempts >= int(settings.MONITORING_ALERTS_WEBHOOK_MAX_ATTEMPTS)
    delay = max(backoff_seconds(delivery.attempts), min(exc.retry_after or 0.0,
                                                        float(settings.MONITORING_ALERTS_WEBHOOK_BACKOFF_MAX_SECONDS)))
    WebhookDelivery.objects.filter(id=delivery.id).update(
        status=WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING,
        next_attempt_at=timezone.now() + timedelta(seconds=delay), last_status_code=exc.status,
        last_error=str(exc)[:500])
    logger.warning("alerts: webhook %s attempt %s failed: %s%s", delivery.webhook.name, delivery.attempts, exc,
                   "" if not final else " (giving up)")
    return Outcome("failed") if final else Outcome("retry", delay)


def delivery_retry(*, delivery: WebhookDelivery) -> None:
    """Admin: send a failed delivery again."""
    WebhookDelivery.objects.filter(id=delivery.id).exclude(status=WebhookDelivery.Status.SENT).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now())
    _queue_delivery(delivery.id)


def webhook_test(*, webhook: AlertWebhook) -> str:
    """Admin: send a sample message now; what happened, for the operator."""
    message = payloads.AlertMessage(notice="firing", rule="Test alert", severity=Severity.INFO,
                                    summary="A test message from TecnoCursos AI alerts.", fingerprint="test",
                                    started_at=timezone.now().timestamp())
    try:
        code = post_json(webhook.url, body_for(webhook, message), authorization=webhook.authorization,
                         timeout=float(settings.MONITORING_ALERTS_WEBHOOK_TIMEOUT))
    except DeliveryError as exc:
        return f"failed: {exc}"
    return f"sent (HTTP {code})"


def notifications_sweep() -> dict[str, int]:
    """Requeue what a lost message or a dead worker left: undispatched events, stale deliveries."""
    now = timezone.now()
    events = list(AlertEvent.objects.filter(notified=True, dispatched_at__isnull=True, at__lt=now - LOST_AFTER)
                  .values_list("id", flat=True)[:500])
    for event_id in events:
        event_dispatch(event_id=event_id)
    stuck = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - STUCK_SENDING)
    reset = stuck.update(status=WebhookDelivery.Status.PENDING, next_attempt_at=now)
    due = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                              next_attempt_at__lt=now - LOST_AFTER)
               .values_list("id", flat=True)[:500])
    for delivery_id in due:
        _queue_delivery(delivery_id)
    return {"events": len(events), "stuck": reset, "requeued": len(due)}
