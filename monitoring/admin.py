"""Read-only views of snapshots and rollups, with date filters; collection settings and controls.

Rows are written by the collector and the rollup task only: nobody adds or edits them here
(deleting is allowed, for an operator cleaning up). The snapshot list shows the collection
settings and switch, with buttons to pause or resume collection and to run a cycle now.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from monitoring import selectors, services
from monitoring.models import ActiveUserDay, MetricRollup, RequestRollup, RollupClaim, SystemSnapshot, TaskRollup


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def collection_settings() -> list[tuple[str, Any]]:
    names = ["MONITORING_COLLECT_INTERVAL", "MONITORING_FLUSH_SECONDS", "MONITORING_SNAPSHOT_RETENTION_HOURS",
             "MONITORING_MINUTE_RETENTION_DAYS", "MONITORING_HOUR_RETENTION_DAYS", "MONITORING_DATA_PATH",
             "MONITORING_CELERY_QUEUES", "MONITORING_HEALTH_CRITICAL", "MONITORING_HEALTH_DISK_MIN_FREE_PERCENT",
             "MONITORING_WORKER_HEARTBEAT_SECONDS"]
    values = [(name, getattr(settings, name)) for name in names]
    return [*values, ("METRICS_TOKEN", "set" if settings.METRICS_TOKEN else "not set (staff only)")]


@admin.register(SystemSnapshot)
class SystemSnapshotAdmin(ReadOnlyAdmin):
    change_list_template = "admin/monitoring/systemsnapshot/change_list.html"
    list_display = ["timestamp", "host", "cpu_percent", "memory_percent", "disk_percent", "load_1",
                    "network_receive_bytes_per_second", "process_count", "celery_queue_length",
                    "websocket_connections", "rolled_up"]
    list_filter = ["timestamp", "host", "rolled_up"]
    search_fields = ["host"]
    date_hierarchy = "timestamp"
    exclude = ["counters"]

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("control/<str:action>/", self.admin_site.admin_view(self.control), name="monitoring_control"),
        ]
        return own + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        try:
            state: dict[str, Any] | None = selectors.collection_state()
        except Exception:
            state = None
        context = {"collection_settings": collection_settings(), "collection_state": state,
                   **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    @staticmethod
    def _run(request: HttpRequest, action: str) -> str:
        if action in ("pause", "resume"):
            services.collection_set(collecting=action == "resume", by=request.user.get_username())
            return f"Collection {'resumed' if action == 'resume' else 'paused'} in every process."
        if action == "collect":
            snapshot = services.snapshot_collect(force=True)
            return f"Sample taken: {snapshot}."
        if action == "rollup":
            return f"Rollups done: {services.rollups_run()}."
        if action == "retention":
            return f"Retention applied, rows deleted: {services.retention_enforce()}."
        raise ValueError(action)

    def control(self, request: HttpRequest, action: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            messages.success(request, self._run(request, action))
        except ValueError:
            messages.error(request, f"Unknown action {action!r}.")
        except Exception as exc:  # Redis down, a failing psutil call: say so, don't 500
            messages.error(request, f"{action} failed: {exc}")
        return HttpResponseRedirect(reverse("admin:monitoring_systemsnapshot_changelist"))


@admin.register(MetricRollup)
class MetricRollupAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "tier", "host", "metric", "labels", "count", "average", "min", "max"]
    list_filter = ["tier", "bucket", "metric", "host"]
    search_fields = ["metric", "labels", "host"]
    date_hierarchy = "bucket"

    @admin.display(description="avg")
    def average(self, row: MetricRollup) -> str:
        return "-" if row.avg is None else f"{row.avg:.3f}"


@admin.register(RequestRollup)
class RequestRollupAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "tier", "method", "route", "count", "client_errors", "server_errors", "avg_ms",
                    "db_queries"]
    list_filter = ["tier", "bucket", "method"]
    search_fields = ["route"]
    date_hierarchy = "bucket"


@admin.register(TaskRollup)
class TaskRollupAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "tier", "task", "count", "failures", "retries"]
    list_filter = ["tier", "bucket"]
    search_fields = ["task"]
    date_hierarchy = "bucket"


@admin.register(ActiveUserDay)
class ActiveUserDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "user", "requests", "last_seen"]
    list_filter = ["day"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    date_hierarchy = "day"
    raw_id_fields = ["user"]


@admin.register(RollupClaim)
class RollupClaimAdmin(ReadOnlyAdmin):
    list_display = ["token", "minute", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["token"]
    date_hierarchy = "created_at"


# Alerts (part 2) register their own models.
from monitoring.alerting import admin as alerting_admin  # noqa: E402,F401
from monitoring.insights import admin as insights_admin  # noqa: E402,F401
from monitoring.optimizer import admin as optimizer_admin  # noqa: E402,F401
