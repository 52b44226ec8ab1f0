"""Findings in the admin: what limits the service now, with its evidence and recommendation;
detection can be run from here."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from monitoring.insights import services
from monitoring.insights.models import Finding


class OpenFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Open"), ("no", "Resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Finding]) -> QuerySet[Finding]:
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    change_list_template = "admin/monitoring/finding/change_list.html"
    list_display = ["title", "severity", "kind", "subject", "short_evidence", "first_seen_at", "last_seen_at",
                    "resolved_at", "occurrences"]
    list_filter = [OpenFilter, "severity", "kind", "last_seen_at"]
    search_fields = ["title", "subject", "recommendation"]
    date_hierarchy = "last_seen_at"
    readonly_fields = ["kind", "subject", "severity", "title", "pretty_evidence", "recommendation", "first_seen_at",
                       "last_seen_at", "resolved_at", "occurrences"]
    exclude = ["evidence"]
    actions = ["resolve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        own = [path("detect/", self.admin_site.admin_view(self.detect_now), name="monitoring_finding_detect")]
        return own + super().get_urls()

    @admin.display(description="evidence")
    def short_evidence(self, finding: Finding) -> str:
        return ", ".join(f"{k}={v}" for k, v in finding.evidence.items() if k != "sql")[:120]

    @admin.display(description="evidence")
    def pretty_evidence(self, finding: Finding) -> str:
        return format_html("<pre>{}</pre>", json.dumps(finding.evidence, indent=2))

    @admin.action(description="Mark resolved (detection reopens what is still there)")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Finding]) -> None:
        for finding in queryset:
            services.finding_resolve(finding=finding)
        self.message_user(request, f"{queryset.count()} finding(s) resolved.")

    def detect_now(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            found = services.findings_detect()
            self.message_user(request, f"Detection done: {len(found)} open finding(s).")
        except Exception as exc:  # a source down: say so, don't 500
            self.message_user(request, f"Detection failed: {exc}", level="error")
        return HttpResponseRedirect(reverse("admin:monitoring_finding_changelist") + "?open=yes")
