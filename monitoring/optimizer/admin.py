"""The optimizer's audit in the admin (read-only), with buttons to preview (dry run) or run the
enabled actions now."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from monitoring.optimizer import services
from monitoring.optimizer.models import OptimizationAction
from tecnocursos.core.exceptions import ApplicationError


@admin.register(OptimizationAction)
class OptimizationActionAdmin(admin.ModelAdmin):
    change_list_template = "admin/monitoring/optimizationaction/change_list.html"
    list_display = ["started_at", "action", "status", "target", "reason", "items", "bytes_freed", "trigger"]
    list_filter = ["action", "status", "trigger", "started_at"]
    search_fields = ["target", "reason", "error"]
    date_hierarchy = "started_at"
    readonly_fields = ["action", "status", "target", "reason", "items", "bytes_freed", "pretty_details", "error",
                       "trigger", "started_at", "finished_at"]
    exclude = ["details"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description="details")
    def pretty_details(self, row: OptimizationAction) -> str:
        return format_html("<pre>{}</pre>", json.dumps(row.details, indent=2))

    def get_urls(self) -> list[URLPattern]:
        own = [path("run/<str:mode>/", self.admin_site.admin_view(self.run), name="monitoring_optimizer_run")]
        return own + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context = {"optimizer_enabled": services.enabled_actions(), "optimizer_actions": OptimizationAction.Action,
                   "optimizer_settings": [(name, getattr(settings, name)) for name in dir(settings)
                                          if name.startswith("MONITORING_OPTIMIZER_")],
                   **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def run(self, request: HttpRequest, mode: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dry = mode != "apply"
        try:
            rows = services.optimizations_run(actions=None if not dry else list(OptimizationAction.Action.values),
                                              dry_run=dry, trigger="admin")
            messages.success(request, f"{'Dry run' if dry else 'Run'} done: {len(rows)} action(s) recorded.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:monitoring_optimizationaction_changelist"))
