"""The few numbers the pages render server-side (admin index, dashboard first paint).

Reads only, through the other apps' selectors and models: a handful of cheap queries."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from django.db.models import Count
from django.utils import timezone

from analytics import export
from backups import selectors as backup_selectors
from backups.models import BackupRun
from monitoring.alerting import selectors as alert_selectors
from tecnocursos.core.models import Course, Upload
from tecnocursos.core.types import User


class KeyNumbers(TypedDict):
    users: int
    staff: int
    courses: int
    uploads: int
    uploads_by_status: dict[str, int]
    active_alerts: int
    firing_alerts: int
    last_backup: BackupRun | None
    last_backup_failed: bool


def key_numbers() -> KeyNumbers:
    by_status = dict(Upload.objects.values_list("status").annotate(n=Count("id")).order_by())
    alerts = dict(alert_selectors.alerts_active().values_list("state").annotate(n=Count("id")).order_by())
    latest = backup_selectors.run_list().exclude(status__in=[BackupRun.Status.QUEUED]).first()
    last_ok = backup_selectors.run_list(status=BackupRun.Status.COMPLETED).first()
    return {
        "users": User.objects.count(),
        "staff": User.objects.filter(is_staff=True).count(),
        "courses": Course.objects.count(),
        "uploads": sum(by_status.values()),
        "uploads_by_status": by_status,
        "active_alerts": sum(alerts.values()),
        "firing_alerts": alerts.get("firing", 0),
        "last_backup": last_ok,
        "last_backup_failed": latest is not None and latest.status == BackupRun.Status.FAILED,
    }


def recent_uploads(*, limit: int) -> list[Upload]:
    return list(Upload.objects.select_related("owner").defer("extracted_text").order_by("-created_at", "-id")[:limit])


def recent_backups(*, limit: int) -> list[BackupRun]:
    return list(backup_selectors.run_list()[:limit])


def recent_series(*, minutes: int) -> export.Series:
    """Every exported metric over the last minutes, as the export API gives them (the dashboard's first paint)."""
    end = timezone.now()
    start = end - timedelta(minutes=minutes)
    query = export.ExportQuery(start=start, end=end, metrics=export.METRICS, step=export.step_for(start, end))
    return export.columns(export.row_batches(query))
