from __future__ import annotations

from django.contrib import admin

from analytics.models import Login


@admin.register(Login)
class LoginAdmin(admin.ModelAdmin):
    """Sign-ins as recorded (read-only: they are facts, written by the login receiver)."""

    list_display = ["user", "via", "at"]
    list_filter = ["via", "at"]
    search_fields = ["user__username"]
    date_hierarchy = "at"
    raw_id_fields = ["user"]

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
