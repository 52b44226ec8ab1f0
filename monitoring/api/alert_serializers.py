from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring.alerting.models import Alert, AlertEvent, AlertRule, Severity
from tecnocursos.core.api.inputs import InputSerializer

MAX_ID = 10**18 - 1


class BandSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()
    center = serializers.FloatField()
    spread = serializers.FloatField()
    seasonality = serializers.ChoiceField(choices=["none", "hour_of_day", "hour_of_week"])
    points = serializers.IntegerField(help_text="Values the baseline was computed from")


class ForecastSerializer(serializers.Serializer):
    current = serializers.FloatField(help_text="The fitted value now")
    slope_per_hour = serializers.FloatField()
    seconds_to_limit = serializers.FloatField(allow_null=True, help_text="From the whole window's trend")
    recent_seconds_to_limit = serializers.FloatField(allow_null=True, help_text="From the window's recent half")
    limit = serializers.FloatField()
    horizon_seconds = serializers.FloatField()


class AlertSerializer(serializers.Serializer):
    """An alert (CONTRACT: id, rule/metric, severity, state, value, threshold, started_at, message)."""

    id = serializers.IntegerField()
    rule = serializers.CharField(source="rule.name")
    rule_id = serializers.IntegerField()
    kind = serializers.ChoiceField(source="rule.kind", choices=AlertRule.Kind.choices)
    metric = serializers.CharField()
    labels = serializers.DictField(child=serializers.CharField())
    fingerprint = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    state = serializers.ChoiceField(choices=Alert.State.choices)
    value = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True, help_text="What the value was compared with: the rule's "
                                       "threshold, an adaptive band's edge, a predictive rule's guard")
    message = serializers.CharField()
    started_at = serializers.DateTimeField(help_text="When the condition first held")
    fired_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    last_evaluated_at = serializers.DateTimeField(allow_null=True)
    acknowledged = serializers.SerializerMethodField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True, default=None)
    silenced_until = serializers.DateTimeField(allow_null=True, help_text="Notifications muted until then")
    band = serializers.SerializerMethodField(help_text="Adaptive rules: the baseline band the value left")
    forecast = serializers.SerializerMethodField(help_text="Predictive rules: the trend towards the limit")
    score = serializers.SerializerMethodField(help_text="Anomaly rules: the scorer's score (0-1)")

    def get_acknowledged(self, alert: Alert) -> bool:
        return alert.acknowledged_at is not None

    @extend_schema_field(BandSerializer(allow_null=True))
    def get_band(self, alert: Alert) -> dict[str, Any] | None:
        band = (alert.details or {}).get("band")
        return dict(BandSerializer(band).data) if band else None

    @extend_schema_field(ForecastSerializer(allow_null=True))
    def get_forecast(self, alert: Alert) -> dict[str, Any] | None:
        details = alert.details or {}
        if not details.get("forecast"):
            return None
        data = {**details["forecast"], "limit": details.get("limit"), "horizon_seconds": details.get("horizon_seconds")}
        return dict(ForecastSerializer(data).data)

    def get_score(self, alert: Alert) -> float | None:
        score = (alert.details or {}).get("score")
        return None if score is None else float(score)


class AlertEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AlertEvent.Kind.choices)
    at = serializers.DateTimeField()
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    value = serializers.FloatField(allow_null=True)
    message = serializers.CharField(allow_blank=True)
    notified = serializers.BooleanField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)


class AlertWithEventsSerializer(AlertSerializer):
    events = AlertEventSerializer(many=True, help_text="Transitions and operators' actions, oldest first")


class AlertRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    enabled = serializers.BooleanField()
    metric = serializers.CharField()
    kind = serializers.ChoiceField(choices=AlertRule.Kind.choices)
    comparison = serializers.CharField()
    threshold = serializers.FloatField(allow_null=True)
    clear_threshold = serializers.FloatField(allow_null=True)
    limit = serializers.FloatField(allow_null=True)
    horizon_seconds = serializers.IntegerField(allow_null=True)
    window_seconds = serializers.IntegerField()
    for_seconds = serializers.IntegerField()
    keep_firing_for_seconds = serializers.IntegerField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    repeat_interval_seconds = serializers.IntegerField()
    labels = serializers.DictField(child=serializers.CharField())
    last_evaluated_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    active_alerts = serializers.IntegerField()


class QuerySerializer(serializers.Serializer):
    """Query parameters: one given empty (`?state=`) is refused, not taken as absent."""

    def to_internal_value(self, data: Any) -> Any:
        blank = {name: ["May not be blank."] for name, _ in self.fields.items()
                 if hasattr(data, "get") and data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


class ActiveQuerySerializer(QuerySerializer):
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    state = serializers.ChoiceField(choices=[Alert.State.PENDING, Alert.State.FIRING], required=False)


class HistoryQuerySerializer(QuerySerializer):
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    state = serializers.ChoiceField(choices=Alert.State.choices, required=False)
    rule = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="A rule's id")


class AcknowledgeSerializer(InputSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class SilenceSerializer(InputSerializer):
    until = serializers.DateTimeField(help_text="When the silence ends: in the future, within a year")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class UnsilenceResultSerializer(serializers.Serializer):
    ended = serializers.IntegerField(help_text="Silences of this alert's fingerprint that were active")
    alert = AlertSerializer()

