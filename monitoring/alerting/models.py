"""Alert rules, alerts (one per firing episode of a fingerprint), their history, silences,
webhooks and webhook deliveries. Imported by monitoring/models.py (the app's models)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from monitoring.alerting.conditions import Comparison, clear_is_consistent


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        STATIC = "static", "Static threshold (with a clear threshold for hysteresis)"
        ADAPTIVE = "adaptive", "Adaptive (outside the metric's robust baseline band)"
        PREDICTIVE = "predictive", "Predictive (reaches its limit within the horizon)"
        ANOMALY = "anomaly", "Anomaly (the anomaly scorer's score at or above the threshold)"

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    metric = models.CharField(max_length=64, help_text="A series of monitoring/alerting/sources.py (docs/alerts.md).")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.STATIC)
    comparison = models.CharField(max_length=8, choices=[(c.value, c.value) for c in Comparison],
                                  default="above",
                                  help_text="above / below the threshold; adaptive rules may use outside (both).")
    threshold = models.FloatField(
        null=True, blank=True,
        help_text="static: fires beyond it; predictive: the static guard (e.g. disk used above 60 %); "
                  "anomaly: the score (0-1) from which it fires. Unused by adaptive rules.")
    clear_threshold = models.FloatField(
        null=True, blank=True, help_text="An active alert clears only past this (hysteresis). Empty: the threshold.")
    limit = models.FloatField(null=True, blank=True,
                              help_text="predictive: the value the resource must not reach (100 for a percentage).")
    horizon_seconds = models.PositiveIntegerField(null=True, blank=True,
                                                  help_text="predictive: fire when the limit is reached within this.")
    window_seconds = models.PositiveIntegerField(
        default=300, help_text="The data a rule looks at: request metrics' window, the regression window of a "
                               "predictive rule (6 h), the recent baseline of an adaptive one, the anomaly history.")
    sensitivity = models.FloatField(default=3.0, help_text="adaptive: band half-width in robust standard deviations.")
    band_floor = models.FloatField(default=0.0, help_text="adaptive: the band's minimum half-width per k, in the "
                                                          "metric's unit (steady series do not alert on noise).")
    for_seconds = models.PositiveIntegerField(default=0, help_text="The condition must hold this long to fire.")
    keep_firing_for_seconds = models.PositiveIntegerField(
        default=0, help_text="Keep firing this long after the condition stops holding (no flapping).")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    repeat_interval_seconds = models.PositiveIntegerField(
        default=4 * 3600, help_text="Notify again this often while firing and not acknowledged (0: never).")
    labels = models.JSONField(default=dict, blank=True, help_text='Extra labels, e.g. {"team": "ops"}.')
    summary = models.CharField(
        max_length=300, blank=True,
        help_text="Message template: {value}, {threshold}, {metric}, {rule}, {horizon}, {time_to_limit} and the "
                  "series' labels ({host}, {mount}, {check}, {config}). Empty: a generated message.")
    state = models.JSONField(default=dict, blank=True, editable=False,
                             help_text="What the engine keeps between evaluations (baselines, scorer state).")
    last_evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from monitoring.alerting.sources import SOURCES

        errors: dict[str, str] = {}
        source = SOURCES.get(self.metric)
        if source is None:
            errors["metric"] = f"Unknown metric; known: {', '.join(sorted(SOURCES))}."
        elif self.kind != self.Kind.STATIC and not source.has_history:
            errors["kind"] = f"{self.metric} has no history: only static rules can watch it."
        if self.kind in (self.Kind.STATIC, self.Kind.PREDICTIVE, self.Kind.ANOMALY) and self.threshold is None:
            errors["threshold"] = "Required for this kind of rule."
        if self.comparison == Comparison.OUTSIDE and self.kind != self.Kind.ADAPTIVE:
            errors["comparison"] = "outside is for adaptive rules."
        if self.kind == self.Kind.PREDICTIVE:
            if self.limit is None:
                errors["limit"] = "Required for a predictive rule."
            if not self.horizon_seconds:
                errors["horizon_seconds"] = "Required for a predictive rule."
            if self.comparison != Comparison.ABOVE:
                errors["comparison"] = "A predictive rule forecasts a rise towards its limit: above."
        if self.kind == self.Kind.ANOMALY and self.threshold is not None and not 0 < self.threshold <= 1:
            errors["threshold"] = "An anomaly threshold is a score within (0, 1]."
        if (self.kind == self.Kind.STATIC and self.threshold is not None and not clear_is_consistent(
                comparison=Comparison(self.comparison), threshold=self.threshold,
                clear_threshold=self.clear_threshold)):
            errors["clear_threshold"] = "Must be on the safe side of the threshold (below it for above rules)."
        if self.sensitivity <= 0:
            errors["sensitivity"] = "Must be positive."
        if not isinstance(self.labels, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.labels.items()):
            errors["labels"] = "An object of strings."
        if errors:
            raise ValidationError(errors)


class Alert(models.Model):
    """One episode of one fingerprint (rule + labels): pending, then firing, then resolved."""

    class State(models.TextChoices):
        PENDING = "pending"
        FIRING = "firing"
        RESOLVED = "resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=64, help_text="Hash of the rule and the labels.")
    labels = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    metric = models.CharField(max_length=64)
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True, help_text="The limit the value was compared with.")
    details = models.JSONField(default=dict, blank=True,
                               help_text="The adaptive band, the forecast or the anomaly score behind the alert.")
    message = models.CharField(max_length=1000, blank=True)
    started_at = models.DateTimeField(help_text="When the condition first held (pending).")
    fired_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_breach_at = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], condition=Q(state__in=["pending", "firing"]),
                                    name="mon_alert_one_active_per_fingerprint"),
        ]
        indexes = [
            models.Index(fields=["state", "-started_at"], name="mon_alert_state"),
            models.Index(fields=["-started_at"], name="mon_alert_started"),
            models.Index(fields=["rule", "state"], name="mon_alert_rule_state"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.state} {self.labels}"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.PENDING, self.State.FIRING)


class AlertEvent(models.Model):
    """A row per transition of an alert, and per operator action on it."""

    class Kind(models.TextChoices):
        PENDING = "pending"
        FIRING = "firing"
        RESOLVED = "resolved"
        REPEAT = "repeat", "Notified again (still firing)"
        NOTIFIED = "notified", "Notified (a silence ended while firing)"
        ACKNOWLEDGED = "acknowledged"
        SILENCED = "silenced"
        UNSILENCED = "unsilenced"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    at = models.DateTimeField()
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10, blank=True)
    value = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=1000, blank=True)
    notified = models.BooleanField(default=False, help_text="Whether this event is sent to staff and webhooks.")
    dispatched_at = models.DateTimeField(null=True, blank=True,
                                         help_text="When its notifications were handed out (claimed once).")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["alert", "at"], name="mon_alert_event_alert"),
                   models.Index(fields=["at"], condition=Q(notified=True, dispatched_at__isnull=True),
                                name="mon_alert_event_undispatched")]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M:%S}"


class AlertSilence(models.Model):
    """Mutes notifications of a fingerprint (or of every alert of a rule) until a time.

    Alerts still change state (the list shows them, marked silenced); nothing is sent."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="silences")
    fingerprint = models.CharField(max_length=64, blank=True, help_text="Empty: every alert of the rule.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    comment = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_at"]
        indexes = [models.Index(fields=["rule", "ends_at"], name="mon_silence_rule_end")]

    def __str__(self) -> str:
        return f"{self.rule} {self.fingerprint or '*'} until {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "Must be after the start."})
        if self.starts_at and self.ends_at and self.ends_at - self.starts_at > timedelta(days=365):
            raise ValidationError({"ends_at": "A silence lasts a year at most."})


class AlertWebhook(models.Model):
    class Format(models.TextChoices):
        SLACK = "slack", "Slack (incoming webhook)"
        TEAMS = "teams", "Microsoft Teams (Adaptive Card)"
        ALERTMANAGER = "alertmanager", "Generic JSON (Alertmanager's webhook shape)"

    name = models.CharField(max_length=120, unique=True)
    url = models.URLField(max_length=1000)
    format = models.CharField(max_length=14, choices=Format.choices, default=Format.ALERTMANAGER)
    enabled = models.BooleanField(default=True)
    min_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    send_resolved = models.BooleanField(default=True)
    authorization = models.CharField(max_length=500, blank=True,
                                     help_text="Sent as the Authorization header (e.g. 'Bearer ...'), if set.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, *, severity: str, resolved: bool) -> bool:
        rank = SEVERITY_RANK.get(Severity(severity), 0) if severity in Severity.values else 0
        return self.enabled and rank >= SEVERITY_RANK[Severity(self.min_severity)] and (
            self.send_resolved or not resolved)


class WebhookDelivery(models.Model):
    """One notification to one webhook, retried with backoff by a Celery task until sent or given up."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    webhook = models.ForeignKey(AlertWebhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="deliveries")
    payload = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="mon_delivery_due")]

    def __str__(self) -> str:
        return f"{self.webhook} {self.status} ({self.attempts} attempts)"
