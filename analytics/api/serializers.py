"""Query parameters and answers of the analytics API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from rest_framework import serializers

from analytics import export
from analytics.periods import MAX_DAYS, Period, period_of


class QuerySerializer(serializers.Serializer):
    """Query parameters: one given empty (`?days=`) is refused, not taken as absent."""

    def to_internal_value(self, data: Any) -> Any:
        blank = {str(name): ["May not be blank."] for name in self.fields
                 if hasattr(data, "get") and data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


class MetricNames(RegexValidator):
    """The schema's pattern (drf-spectacular reads a RegexValidator), with a message naming the unknown ones."""

    def __init__(self) -> None:
        name = "|".join(re.escape(metric) for metric in export.METRICS)
        super().__init__(rf"^(all|({name})(,({name}))*)$")

    def __call__(self, value: Any) -> None:
        names = [part.strip() for part in str(value).split(",")]
        if names == ["all"]:
            return
        unknown = [name for name in names if name not in export.METRICS]
        if unknown:
            raise DjangoValidationError(
                f"Unknown metric {', '.join(unknown)[:100]!r}; valid: all, {', '.join(export.METRICS)}.")


class ExportQuerySerializer(QuerySerializer):
    format = serializers.ChoiceField(choices=["json", "csv"], default="json",
                                     help_text="`json`: one array of row objects; `csv`: `timestamp,metric,value`.")
    start = serializers.DateTimeField(required=False, help_text="ISO 8601; default: 24 h before `end`.")
    end = serializers.DateTimeField(required=False, help_text="ISO 8601; default: now.")
    metric = serializers.CharField(
        required=False, default="all", max_length=500, validators=[MetricNames()],
        help_text=f"`all`, or names separated by commas: {', '.join(export.METRICS)}.")
    step = serializers.ChoiceField(
        choices=list(export.STEPS), default="auto",
        help_text="`auto`: raw samples up to 6 h, minute rollups up to 3 days, hour rollups beyond. "
                  "Request series are never finer than the minute.")

    def validate_metric(self, value: str) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(part.strip() for part in value.split(",")))
        return export.METRICS if names == ("all",) else names

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = _utc(attrs.get("start")), _utc(attrs.get("end"))
        try:
            end = end or datetime.now(tz=UTC)
            start = start or end - timedelta(hours=24)
        except OverflowError as exc:
            raise serializers.ValidationError({"start": ["Out of range."]}) from exc
        if start >= end:
            raise serializers.ValidationError({"start": ["Must be before end."]})
        if end - start > export.MAX_RANGE:
            raise serializers.ValidationError({"start": ["The range may not exceed 366 days."]})
        attrs["query"] = export.ExportQuery(start=start, end=end, metrics=attrs["metric"],
                                            step=export.step_for(start, end, attrs["step"]))
        return attrs


class ExportRowSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField(help_text="UTC: the sample's time, or the start of its minute or hour.")
    metric = serializers.ChoiceField(choices=list(export.METRICS))
    value = serializers.FloatField()


class PeriodQuerySerializer(QuerySerializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DAYS,
                                    help_text=f"The last N days (1-{MAX_DAYS}, default 7), today included.")
    start = serializers.DateTimeField(required=False, help_text="ISO 8601; with `end`, instead of `days`.")
    end = serializers.DateTimeField(required=False, help_text="ISO 8601; default now.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["period"] = period_of(days=attrs.get("days"), start=_utc(attrs.get("start")),
                                        end=_utc(attrs.get("end")))
        except ValueError as exc:
            raise serializers.ValidationError({"detail": str(exc)}) from exc
        return attrs


def period_from(query_params: Any) -> Period:
    query = PeriodQuerySerializer(data=query_params)
    query.is_valid(raise_exception=True)
    period: Period = query.validated_data["period"]
    return period
