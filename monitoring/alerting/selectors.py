"""Alert reads: the active alerts, the history, one alert, counts for /metrics."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, Count, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from monitoring.alerting.models import Alert, AlertEvent, AlertRule, AlertSilence, Severity
from tecnocursos.core.exceptions import NotFound

ACTIVE_STATES = (Alert.State.PENDING, Alert.State.FIRING)
EVENTS_PER_ALERT = 50


def _with_silence(alerts: QuerySet[Alert], now: datetime | None = None) -> QuerySet[Alert]:
    """Annotate `silenced_until`: the end of the latest silence covering the alert now (or None)."""
    now = now or timezone.now()
    covering = (AlertSilence.objects.filter(rule=OuterRef("rule"), starts_at__lte=now, ends_at__gt=now)
                .filter(Q(fingerprint=OuterRef("fingerprint")) | Q(fingerprint=""))
                .values("rule").annotate(until=Max("ends_at")).values("until"))
    return alerts.annotate(silenced_until=Subquery(covering[:1]))


def _base() -> QuerySet[Alert]:
    return _with_silence(Alert.objects.select_related("rule", "acknowledged_by"))


def _filtered(alerts: QuerySet[Alert], *, severity: str | None, state: str | None, rule_id: int | None
              ) -> QuerySet[Alert]:
    if severity:
        alerts = alerts.filter(severity=severity)
    if state:
        alerts = alerts.filter(state=state)
    if rule_id is not None:
        alerts = alerts.filter(rule_id=rule_id)
    return alerts


def alerts_active(*, severity: str | None = None, state: str | None = None) -> QuerySet[Alert]:
    """Pending and firing alerts: firing first, the most severe first, then the oldest."""
    rank = Case(*[When(severity=s, then=Value(i)) for i, s in enumerate(
        (Severity.CRITICAL, Severity.WARNING, Severity.INFO))], default=Value(9), output_field=IntegerField())
    alerts = _filtered(_base().filter(state__in=ACTIVE_STATES), severity=severity, state=state, rule_id=None)
    return alerts.annotate(rank=rank).order_by("state", "rank", "started_at", "id")  # "firing" < "pending"


def alerts_history(*, severity: str | None = None, state: str | None = None, rule_id: int | None = None
                   ) -> QuerySet[Alert]:
    """Every alert, newest first, each with its events (transitions and operators' actions)."""
    events = Prefetch("events", queryset=AlertEvent.objects.select_related("actor").order_by("at", "id"))
    return _filtered(_base(), severity=severity, state=state, rule_id=rule_id).prefetch_related(events).order_by(
        "-started_at", "-id")


def alert_get(*, alert_id: int) -> Alert:
    events = Prefetch("events", queryset=AlertEvent.objects.select_related("actor").order_by("at", "id"))
    alert = _base().prefetch_related(events).filter(id=alert_id).first()
    if alert is None:
        raise NotFound("No such alert.")
    return alert


def alert_counts() -> dict[str, dict[str, int]]:
    """Per severity: how many alerts fire and how many are pending."""
    counts = {str(s): {"firing": 0, "pending": 0} for s in Severity}
    rows = Alert.objects.filter(state__in=ACTIVE_STATES).values("severity", "state").annotate(n=Count("id"))
    for row in rows:
        counts.setdefault(row["severity"], {"firing": 0, "pending": 0})[row["state"]] = row["n"]
    return counts


def rules_list() -> QuerySet[AlertRule]:
    return AlertRule.objects.annotate(active_alerts=Count("alerts", filter=Q(alerts__state__in=ACTIVE_STATES)))
