"""Analytics reads: the users, content and performance reports, and the dashboard overview.

Performance figures come from monitoring's request and metric rollups (minute rows for ranges
up to 6 h, hour rows beyond), never from raw request logs; user activity from its per-day
active-user rows; content from the course and upload tables (they are the record). Reports
are cached under tags that the writes underneath invalidate (tecnocursos/cache/tags.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, DurationField, ExpressionWrapper, F, Max, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate

from analytics import reports
from analytics.models import Login
from analytics.periods import Period
from backups import selectors as backups
from monitoring import histogram
from monitoring import selectors as monitoring
from monitoring.alerting import selectors as alerts
from monitoring.api.alert_serializers import AlertSerializer
from monitoring.models import ActiveUserDay, MetricRollup, RequestRollup, SystemSnapshot, Tier
from tecnocursos.cache import selectors as cache
from tecnocursos.cache.decorators import cached
from tecnocursos.cache.tags import ANALYTICS_CONTENT, ANALYTICS_PERFORMANCE, ANALYTICS_USERS
from tecnocursos.core.models import Course, Upload
from tecnocursos.lib.timefmt import utc_iso

logger = logging.getLogger(__name__)
TOP = 10
REPORT_TTL_SECONDS = 300  # an upper bound: the writes underneath invalidate sooner
# Snapshot series whose peak and average the performance report shows.
PEAK_METRICS = ("cpu_percent", "memory_percent", "disk_percent", "load_1", "swap_percent", "process_rss_bytes",
                "network_receive_bytes_per_second", "network_transmit_bytes_per_second", "websocket_connections",
                "celery_queue_length")


def _period_dict(period: Period) -> dict[str, str]:
    return {"start": utc_iso(period.start), "end": utc_iso(period.end)}


def _by_day(rows: Any, field: str) -> dict[date, int]:
    return {row["day"]: row[field] for row in rows}


# --- users ------------------------------------------------------------------------------------


def _active_between(first: date, last: date) -> int:
    return monitoring.active_users(start=first, end=last)


def _users_summary(period: Period) -> dict[str, Any]:
    User = get_user_model()
    days = ActiveUserDay.objects.filter(day__gte=period.first_day, day__lte=period.last_day)
    previous = period.previous
    before = ActiveUserDay.objects.filter(day__gte=previous.first_day, day__lt=period.first_day)
    active = _active_between(period.first_day, period.last_day)
    # The days before this period's first one (a mid-day start shares its day with the previous period).
    previously_active = 0 if period.first_day == date.min else _active_between(
        previous.first_day, period.first_day - timedelta(days=1))
    returning = (days.filter(user_id__in=before.values("user_id"))
                 .aggregate(n=Count("user", distinct=True))["n"])
    logins = Login.objects.filter(at__gte=period.start, at__lt=period.end)
    return {
        "total_users": User.objects.filter(date_joined__lt=period.end).count(),
        "active_users": active,
        "new_users": User.objects.filter(date_joined__gte=period.start, date_joined__lt=period.end).count(),
        "returning_users": returning,
        "retention": round(returning / previously_active, 4) if previously_active else None,
        "logins": logins.count(),
        "users_logged_in": logins.aggregate(n=Count("user", distinct=True))["n"],
    }


def users_report_uncached(start: datetime, end: datetime) -> dict[str, Any]:
    period = Period(start, end)
    User = get_user_model()
    current = _users_summary(period)
    previous = _users_summary(period.previous)
    joined = _by_day(User.objects.filter(date_joined__gte=period.start, date_joined__lt=period.end)
                     .annotate(day=TruncDate("date_joined")).values("day").annotate(n=Count("id")), "n")
    logins = _by_day(Login.objects.filter(at__gte=period.start, at__lt=period.end)
                     .annotate(day=TruncDate("at")).values("day").annotate(n=Count("id")), "n")
    active = {row["day"]: row for row in monitoring.active_users_per_day(start=period.first_day, end=period.last_day)}
    series = [{"date": day.isoformat(), "active_users": active.get(day, {}).get("users", 0),
               "new_users": joined.get(day, 0), "logins": logins.get(day, 0),
               "requests": active.get(day, {}).get("requests", 0)} for day in period.days()]
    most_active = (ActiveUserDay.objects.filter(day__gte=period.first_day, day__lte=period.last_day)
                   .values("user_id", "user__username")
                   .annotate(requests=Sum("requests"), days_active=Count("id"), last_seen=Max("last_seen"))
                   .order_by("-requests", "user_id")[:TOP])
    last = period.last_day
    return {
        "period": _period_dict(period),
        **current,
        "activity": {"daily": _active_between(last, last), "weekly": _active_between(last - timedelta(days=6), last),
                     "monthly": _active_between(last - timedelta(days=29), last)},
        "series": series,
        "most_active": [{"id": row["user_id"], "username": row["user__username"], "requests": row["requests"],
                         "days_active": row["days_active"], "last_seen": utc_iso(row["last_seen"])}
                        for row in most_active],
        "previous": {"period": _period_dict(period.previous), **previous},
        "change": reports.deltas(current, previous, ("total_users", "active_users", "new_users", "returning_users",
                                                     "retention", "logins")),
    }


@cached(ttl_seconds=REPORT_TTL_SECONDS, tags=[ANALYTICS_USERS])
def users_report(start: datetime, end: datetime) -> dict[str, Any]:
    return users_report_uncached(start, end)


def user_last_seen(*, user_id: int) -> datetime | None:
    """When the user last made an authenticated request (to the minute), from the rolled-up days."""
    return ActiveUserDay.objects.filter(user_id=user_id).aggregate(last=Max("last_seen"))["last"]


# --- content ----------------------------------------------------------------------------------

_TYPE = Coalesce(NullIf("detected_type", Value("")), NullIf("declared_type", Value("")), Value("unknown"))
_PROCESSING = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())


def _content_summary(period: Period) -> dict[str, Any]:
    uploads = Upload.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    totals = uploads.aggregate(n=Count("id"), size=Sum("size"), failed=Count("id", filter=Q(status="failed")))
    return {
        "uploads": totals["n"],
        "bytes": totals["size"] or 0,
        "failed_uploads": totals["failed"],
        "new_courses": Course.objects.filter(created_at__gte=period.start, created_at__lt=period.end).count(),
    }


def _processing_ms(period: Period) -> dict[str, Any]:
    finished = (Upload.objects.filter(finished_at__gte=period.start, finished_at__lt=period.end,
                                      started_at__isnull=False)
                .annotate(took=_PROCESSING).values_list("took", flat=True))
    values = sorted(took.total_seconds() * 1000 for took in finished if took is not None)
    return {"count": len(values), "p50": reports.nearest_rank(values, 0.5), "p95": reports.nearest_rank(values, 0.95),
            "avg": round(sum(values) / len(values), 3) if values else None, "max": values[-1] if values else None}


def content_report_uncached(start: datetime, end: datetime) -> dict[str, Any]:
    period = Period(start, end)
    uploads = Upload.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    current = _content_summary(period)
    previous = _content_summary(period.previous)
    days = uploads.annotate(day=TruncDate("created_at")).values("day").annotate(
        n=Count("id"), size=Sum("size"), failed=Count("id", filter=Q(status="failed")))
    per_day: dict[date, dict[str, Any]] = {row["day"]: dict(row) for row in days}
    courses_per_day = _by_day(Course.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
                              .annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id")), "n")
    failed = Upload.objects.filter(status="failed", finished_at__gte=period.start, finished_at__lt=period.end)
    courses = Course.objects.filter(created_at__lt=period.end)
    return {
        "period": _period_dict(period),
        **current,
        "courses": {"total": courses.count(), "published": courses.filter(is_published=True).count(),
                    "new": current["new_courses"]},
        "by_status": {row["status"]: {"count": row["n"], "bytes": row["size"] or 0}
                      for row in uploads.values("status").annotate(n=Count("id"), size=Sum("size")).order_by()},
        "by_type": [{"type": row["kind"], "count": row["n"], "bytes": row["size"] or 0}
                    for row in uploads.annotate(kind=_TYPE).values("kind").annotate(n=Count("id"), size=Sum("size"))
                    .order_by("-n", "kind")[:20]],
        "processing_ms": _processing_ms(period),
        "failure_reasons": [{"reason": row["failure_reason"], "count": row["n"]}
                            for row in failed.values("failure_reason").annotate(n=Count("id"))
                            .order_by("-n", "failure_reason")[:TOP]],
        "top_uploaders": [{"id": row["owner_id"], "username": row["owner__username"], "uploads": row["n"],
                           "bytes": row["size"] or 0}
                          for row in uploads.values("owner_id", "owner__username")
                          .annotate(n=Count("id"), size=Sum("size")).order_by("-n", "owner_id")[:TOP]],
        "series": [{"date": day.isoformat(), "uploads": per_day.get(day, {}).get("n", 0),
                    "bytes": per_day.get(day, {}).get("size") or 0, "failed": per_day.get(day, {}).get("failed", 0),
                    "new_courses": courses_per_day.get(day, 0)} for day in period.days()],
        "previous": {"period": _period_dict(period.previous), **previous},
        "change": reports.deltas(current, previous, ("uploads", "bytes", "failed_uploads", "new_courses")),
    }


@cached(ttl_seconds=REPORT_TTL_SECONDS, tags=[ANALYTICS_CONTENT])
def content_report(start: datetime, end: datetime) -> dict[str, Any]:
    return content_report_uncached(start, end)


# --- performance ------------------------------------------------------------------------------

TIER_MINUTES: dict[str, int] = {Tier.MINUTE: 1, Tier.HOUR: 60}


# Per-bucket histogram sums, merged in the database: one column per latency bucket.
_HISTOGRAM_SUMS = {f"h{i}": Sum(Cast(KT(f"histogram__{i}"), BigIntegerField()))
                   for i in range(len(histogram.LATENCY_BOUNDS) + 1)}


def _requests(period: Period, tier: str, *, routes: bool) -> dict[str, Any]:
    """Totals (and per route and per bucket) from one tier of the request rollups.

    The database adds the rows up per route, histograms bucket by bucket (a few dozen rows come
    back, whatever the range); percentiles are then interpolated from the merged histograms.
    """
    rows = RequestRollup.objects.filter(tier=tier, bucket__gte=period.start, bucket__lt=period.end)
    per_route_rows = (rows.values("method", "route").order_by()
                      .annotate(n=Sum("count"), e5=Sum("server_errors"), e4=Sum("client_errors"),
                                us=Sum("duration_us"), **_HISTOGRAM_SUMS))
    total = reports.RouteTotals("*", "*")
    per_route: list[reports.RouteTotals] = []
    for values in per_route_rows:
        row: dict[str, Any] = dict(values)  # the bucket columns are named at run time
        counts = [row[f"h{i}"] or 0 for i in range(len(_HISTOGRAM_SUMS))]
        entry = reports.RouteTotals(row["method"], row["route"])
        entry.add(row["n"], row["e5"], row["e4"], row["us"], counts)
        total.add(row["n"], row["e5"], row["e4"], row["us"], counts)
        per_route.append(entry)
    per_bucket = {row["bucket"]: (row["n"], row["e5"]) for row in rows.values("bucket").order_by("bucket")
                  .annotate(n=Sum("count"), e5=Sum("server_errors"))}
    summary = total.summary()
    # The average runs over the time elapsed: a period may end with the current (unfinished) hour.
    elapsed = min(period.end, datetime.now(tz=UTC)) - period.start
    minutes = max(elapsed.total_seconds() / 60, 1 / 60)
    peak_bucket = max(per_bucket, key=lambda b: per_bucket[b][0], default=None)
    result: dict[str, Any] = {
        "requests": summary["requests"], "server_errors": summary["server_errors"],
        "client_errors": summary["client_errors"], "error_rate": summary["error_rate"],
        "latency_ms": summary["latency_ms"], "apdex": reports.apdex(total.histogram),
        "throughput_per_minute": {
            "avg": round(summary["requests"] / minutes, 3),
            "peak": None if peak_bucket is None else round(per_bucket[peak_bucket][0] / TIER_MINUTES[tier], 3),
            "peak_at": utc_iso(peak_bucket),
        },
    }
    if routes:
        summaries = [entry.summary() for entry in per_route]
        result["slowest_routes"] = sorted(summaries, key=lambda r: (-(r["latency_ms"]["p95"] or 0), r["route"]))[:TOP]
        result["failing_routes"] = sorted((r for r in summaries if r["server_errors"]),
                                          key=lambda r: (-r["server_errors"], r["route"]))[:TOP]
        result["series"] = [{"bucket": utc_iso(bucket), "requests": sums[0], "server_errors": sums[1],
                             "requests_per_minute": round(sums[0] / TIER_MINUTES[tier], 3)}
                            for bucket, sums in sorted(per_bucket.items())]
    return result


def _peaks_from_rollups(period: Period, tier: str) -> dict[str, dict[str, float | None]]:
    rows = (MetricRollup.objects.filter(metric__in=PEAK_METRICS, tier=tier, labels="", bucket__gte=period.start,
                                        bucket__lt=period.end)
            .values("metric").annotate(peak=Max("max"), total=Sum("sum"), n=Sum("count")).order_by())
    return {row["metric"]: {"max": row["peak"], "avg": round(row["total"] / row["n"], 3) if row["n"] else None}
            for row in rows}


def _peaks_from_samples(period: Period) -> dict[str, dict[str, float | None]]:
    """The same figures from the raw samples (for the comparison in tests and the benchmark)."""
    samples = SystemSnapshot.objects.filter(timestamp__gte=period.start, timestamp__lt=period.end)
    found = samples.aggregate(**{f"{m}__max": Max(m) for m in PEAK_METRICS},
                              **{f"{m}__sum": Sum(m) for m in PEAK_METRICS},
                              **{f"{m}__n": Count(m) for m in PEAK_METRICS})
    return {m: {"max": found[f"{m}__max"], "avg": round(found[f"{m}__sum"] / found[f"{m}__n"], 3)}
            for m in PEAK_METRICS if found[f"{m}__n"]}


def performance_figures(period: Period, *, tier: str, peaks: Callable[[Period], dict[str, Any]] | None = None
                        ) -> dict[str, Any]:
    current = _requests(period, tier, routes=True)
    previous = _requests(period.previous, tier, routes=False)
    read_peaks = peaks or (lambda of: _peaks_from_rollups(of, tier))
    system = read_peaks(period)
    keys = ("requests", "error_rate", "latency_ms.p50", "latency_ms.p95", "latency_ms.p99", "apdex",
            "throughput_per_minute.avg")
    return {
        "period": _period_dict(period),
        "resolution": tier,
        **current,
        "apdex_t_ms": reports.APDEX_T_SECONDS * 1000,
        "system": system,
        "previous": {"period": _period_dict(period.previous), **previous,
                     "system": read_peaks(period.previous)},
        "change": reports.deltas(current, previous, keys),
    }


def performance_report_uncached(start: datetime, end: datetime) -> dict[str, Any]:
    return performance_figures(Period(start, end), tier=monitoring.tier_for(start, end))


def performance_report_direct(start: datetime, end: datetime) -> dict[str, Any]:
    """From the finest rows kept: minute request rollups and raw system samples (tests, benchmark)."""
    return performance_figures(Period(start, end), tier=Tier.MINUTE, peaks=_peaks_from_samples)


@cached(ttl_seconds=REPORT_TTL_SECONDS, tags=[ANALYTICS_PERFORMANCE])
def performance_report(start: datetime, end: datetime) -> dict[str, Any]:
    return performance_report_uncached(start, end)


# --- dashboard overview -----------------------------------------------------------------------

RECENT_REQUEST_MINUTES = 5


def _system() -> dict[str, Any]:
    snapshot = monitoring.snapshot_latest()
    fields = ("cpu_percent", "memory_percent", "disk_percent", "load_1", "load_5", "load_15", "swap_percent",
              "network_receive_bytes_per_second", "network_transmit_bytes_per_second", "process_count",
              "process_rss_bytes", "celery_queue_length", "websocket_connections")
    return {"timestamp": utc_iso(snapshot.timestamp), "host": snapshot.host,
            "age_seconds": round(monitoring.snapshot_age_seconds(snapshot), 1),
            "fresh": monitoring.snapshot_is_fresh(snapshot), **{name: getattr(snapshot, name) for name in fields}}


def _requests_now(day_tier: str) -> dict[str, Any]:
    """The last minutes (rolled up or still in Redis), and the last 24 h from the `day_tier` rollups."""
    summary = monitoring.request_summary_recent(minutes=RECENT_REQUEST_MINUTES)
    now = datetime.now(tz=UTC)
    day = _requests(Period((now - timedelta(hours=24)).replace(minute=0, second=0, microsecond=0), now), day_tier,
                    routes=False)
    return {"window_minutes": RECENT_REQUEST_MINUTES, "requests": summary["requests"],
            "per_second": round(summary["requests"] / (RECENT_REQUEST_MINUTES * 60), 3),
            "server_errors": summary["server_errors"], "error_rate": summary["error_rate"],
            "latency_ms": summary["latency_ms"],
            "last_24h": {key: day[key] for key in ("requests", "server_errors", "error_rate", "latency_ms", "apdex")}}


def _active_users() -> dict[str, Any]:
    today = datetime.now(tz=UTC).date()
    return {"last_15_minutes": monitoring.active_users_recent(minutes=15),
            "today": _active_between(today, today)}


def _alerts() -> dict[str, Any]:
    counts = alerts.alert_counts()
    newest = alerts.alerts_active().order_by("-started_at", "-id")[:5]
    return {"firing": sum(c["firing"] for c in counts.values()), "pending": sum(c["pending"] for c in counts.values()),
            "by_severity": counts, "newest": AlertSerializer(newest, many=True).data}


def _backups() -> dict[str, Any]:
    overview = backups.backup_overview()
    return {"last_backup": overview["last_backup"], "counts": overview["counts"],
            "configs": [{"name": c["name"], "enabled": c["enabled"], "last_run": c["last_run"],
                         "last_success_at": c["last_success_at"]} for c in overview["configs"]]}


def _uploads() -> dict[str, Any]:
    since = datetime.now(tz=UTC) - timedelta(hours=24)
    recent = Upload.objects.select_related("owner").only(
        "id", "original_name", "status", "size", "detected_type", "created_at", "owner__username")[:5]
    counts = dict(Upload.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("id"))
                  .order_by())
    return {"last_24h": {status: counts.get(status, 0) for status in Upload.Status.values},
            "recent": [{"id": u.id, "name": u.original_name, "status": u.status, "size": u.size,
                        "type": u.detected_type, "owner": u.owner.username, "created_at": utc_iso(u.created_at)}
                       for u in recent]}


def _overview_parts(day_tier: str) -> dict[str, Callable[[], Any]]:
    """The overview's parts, each read from its own source (looked up per call, so tests can replace one)."""
    return {
        "system": _system,
        "requests": partial(_requests_now, day_tier),
        "active_users": _active_users,
        "alerts": _alerts,
        "cache": cache.cache_stats,
        "backups": _backups,
        "websocket": monitoring.websocket_stats,
        "uploads": _uploads,
    }


def _reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"[:300]


def dashboard_overview(*, day_tier: str = Tier.HOUR) -> dict[str, Any]:
    """Every part from its own source; a part whose source fails is None, with the reason.

    `day_tier`: the rollups the last 24 h of requests are read from (minute: the benchmark's baseline).
    """
    result: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for name, part in _overview_parts(day_tier).items():
        try:
            # Inside a transaction (tests, ATOMIC_REQUESTS) a failed query must not poison the next parts.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                result[name] = part()
        except Exception as exc:  # one failing source must not take the dashboard down
            logger.warning("analytics overview: %s unavailable", name, exc_info=True)
            result[name] = None
            unavailable[name] = _reason(exc)
    result["generated_at"] = utc_iso(datetime.now(tz=UTC))
    result["unavailable"] = unavailable
    return result
