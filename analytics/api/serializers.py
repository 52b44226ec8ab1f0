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


# --- answers (for the schema; the views return the selectors' dicts) ------------------------------


def _obj(help_text: str = "") -> serializers.DictField:
    return serializers.DictField(allow_null=True, help_text=help_text)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive.")


class ChangeSerializer(serializers.Serializer):
    delta = serializers.FloatField(allow_null=True, help_text="This period minus the previous one.")
    percent = serializers.FloatField(allow_null=True, help_text="The delta as a percent of the previous value; "
                                                                "null when that was zero or unknown.")


def _changes(report: str, *names: str) -> serializers.Serializer:
    """Each headline figure's change from the previous period (one schema component per report)."""
    fields: dict[str, Any] = {name: ChangeSerializer() for name in names}
    serializer: serializers.Serializer = type(f"{report}ChangeSerializer", (serializers.Serializer,), fields)()
    return serializer


class UsersFiguresSerializer(serializers.Serializer):
    total_users = serializers.IntegerField(help_text="Accounts that existed at the end of the period.")
    active_users = serializers.IntegerField(help_text="Distinct users with authenticated requests in the period "
                                                      "(whole UTC days).")
    new_users = serializers.IntegerField()
    returning_users = serializers.IntegerField(help_text="Active users who were active in the previous period too.")
    retention = serializers.FloatField(allow_null=True, help_text="returning / active in the previous period.")
    logins = serializers.IntegerField(help_text="Sign-ins (session or token).")
    users_logged_in = serializers.IntegerField()


class UsersPreviousSerializer(UsersFiguresSerializer):
    period = PeriodSerializer()


class UsersDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    active_users = serializers.IntegerField()
    new_users = serializers.IntegerField()
    logins = serializers.IntegerField()
    requests = serializers.IntegerField()


class ActivitySerializer(serializers.Serializer):
    daily = serializers.IntegerField(help_text="Active on the period's last day.")
    weekly = serializers.IntegerField(help_text="Active in the 7 days up to the period's last day.")
    monthly = serializers.IntegerField(help_text="Active in the 30 days up to the period's last day.")


class ActiveUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    requests = serializers.IntegerField()
    days_active = serializers.IntegerField()
    last_seen = serializers.DateTimeField(help_text="End of the minute of the last request.")


class UsersReportSerializer(UsersFiguresSerializer):
    period = PeriodSerializer()
    activity = ActivitySerializer()
    series = UsersDaySerializer(many=True)
    most_active = ActiveUserSerializer(many=True)
    previous = UsersPreviousSerializer()
    change = _changes("Users", "total_users", "active_users", "new_users", "returning_users", "retention", "logins")


class ContentFiguresSerializer(serializers.Serializer):
    uploads = serializers.IntegerField(help_text="Uploads created in the period.")
    bytes = serializers.IntegerField()
    failed_uploads = serializers.IntegerField()
    new_courses = serializers.IntegerField()


class ContentPreviousSerializer(ContentFiguresSerializer):
    period = PeriodSerializer()


class CountBytesSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    bytes = serializers.IntegerField()


class TypeCountSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Detected type, else the declared one, else `unknown`.")
    count = serializers.IntegerField()
    bytes = serializers.IntegerField()


class ProcessingSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Uploads whose processing finished in the period.")
    p50 = serializers.FloatField(allow_null=True, help_text="Milliseconds, nearest rank.")
    p95 = serializers.FloatField(allow_null=True)
    avg = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class UploaderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    uploads = serializers.IntegerField()
    bytes = serializers.IntegerField()


class CoursesSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    published = serializers.IntegerField()
    new = serializers.IntegerField()


class ContentDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    uploads = serializers.IntegerField()
    bytes = serializers.IntegerField()
    failed = serializers.IntegerField()
    new_courses = serializers.IntegerField()


class ContentReportSerializer(ContentFiguresSerializer):
    period = PeriodSerializer()
    courses = CoursesSerializer()
    by_status = serializers.DictField(child=CountBytesSerializer(), help_text="Per upload status.")
    by_type = TypeCountSerializer(many=True)
    processing_ms = ProcessingSerializer()
    failure_reasons = ReasonSerializer(many=True)
    top_uploaders = UploaderSerializer(many=True)
    series = ContentDaySerializer(many=True)
    previous = ContentPreviousSerializer()
    change = _changes("Content", "uploads", "bytes", "failed_uploads", "new_courses")


class LatencySerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True, help_text="Milliseconds; interpolated within histogram buckets.")
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)
    avg = serializers.FloatField(allow_null=True)


class ThroughputSerializer(serializers.Serializer):
    avg = serializers.FloatField(help_text="Requests per minute over the period.")
    peak = serializers.FloatField(allow_null=True, help_text="Busiest bucket, per minute (hour buckets: averaged).")
    peak_at = serializers.DateTimeField(allow_null=True)


class RouteSerializer(serializers.Serializer):
    method = serializers.CharField()
    route = serializers.CharField(help_text="The URL pattern's name.")
    requests = serializers.IntegerField()
    server_errors = serializers.IntegerField()
    client_errors = serializers.IntegerField()
    error_rate = serializers.FloatField()
    latency_ms = LatencySerializer()


class PeakSerializer(serializers.Serializer):
    max = serializers.FloatField(allow_null=True)
    avg = serializers.FloatField(allow_null=True)


class RequestFiguresSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    server_errors = serializers.IntegerField()
    client_errors = serializers.IntegerField()
    error_rate = serializers.FloatField(help_text="5xx share of the requests.")
    latency_ms = LatencySerializer()
    apdex = serializers.FloatField(allow_null=True, help_text="(satisfied + tolerating/2) / requests.")
    throughput_per_minute = ThroughputSerializer()
    system = serializers.DictField(child=PeakSerializer(), help_text="Per snapshot series: peak and average.")


class PerformancePreviousSerializer(RequestFiguresSerializer):
    period = PeriodSerializer()


class BucketSerializer(serializers.Serializer):
    bucket = serializers.DateTimeField()
    requests = serializers.IntegerField()
    server_errors = serializers.IntegerField()
    requests_per_minute = serializers.FloatField()


class PerformanceReportSerializer(RequestFiguresSerializer):
    period = PeriodSerializer()
    resolution = serializers.ChoiceField(choices=["minute", "hour"], help_text="The rollup tier read.")
    apdex_t_ms = serializers.FloatField()
    slowest_routes = RouteSerializer(many=True, help_text="By p95, slowest first.")
    failing_routes = RouteSerializer(many=True, help_text="By 5xx answers, most first.")
    series = BucketSerializer(many=True)
    previous = PerformancePreviousSerializer()
    change = _changes("Performance", "requests", "error_rate", "latency_ms.p50", "latency_ms.p95", "latency_ms.p99",
                      "apdex", "throughput_per_minute.avg")


class OverviewSerializer(serializers.Serializer):
    system = _obj("The latest system sample: CPU, memory, disk, load, network, its age.")
    requests = _obj("The last 5 minutes: requests, per second, 5xx, error rate, latency percentiles.")
    active_users = _obj("Users seen in the last 15 minutes and today.")
    alerts = _obj("Firing and pending counts, per severity, and the newest active alerts.")
    cache = _obj("L1 and L2: hits, misses, hit rate, items, bytes.")
    backups = _obj("The last backup, counts, and each configuration's last run with its status.")
    websocket = _obj("Connections, users, rooms, message counters, closes and errors.")
    uploads = _obj("Uploads of the last 24 h per status, and the newest.")
    generated_at = serializers.DateTimeField()
    unavailable = serializers.DictField(child=serializers.CharField(),
                                        help_text="Parts that are null, with the reason their source failed.")
