"""Alerts in the admin: rules are edited here (validated by AlertRule.clean), alerts and their
history are read-only with the operator's actions (acknowledge, silence, unsilence), silences
and webhooks are editable, deliveries read-only with a retry action."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from monitoring.alerting import notify, services
from monitoring.alerting.models import Alert, AlertEvent, AlertRule, AlertSilence, AlertWebhook, WebhookDelivery
from monitoring.alerting.sources import metric_choices
from tecnocursos.core.exceptions import ApplicationError


class AlertRuleForm(forms.ModelForm):
    metric = forms.ChoiceField(choices=metric_choices)

    class Meta:
        model = AlertRule
        fields = ["name", "description", "enabled", "metric", "kind", "severity", "labels", "summary", "comparison",
                  "threshold", "clear_threshold", "window_seconds", "sensitivity", "band_floor", "limit",
                  "horizon_seconds", "for_seconds", "keep_firing_for_seconds", "repeat_interval_seconds"]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ["name", "enabled", "kind", "metric", "comparison", "threshold", "clear_threshold", "for_seconds",
                    "severity", "active_alerts", "last_evaluated_at", "error"]
    list_filter = ["enabled", "kind", "severity", "metric"]
    search_fields = ["name", "metric", "description"]
    readonly_fields = ["last_evaluated_at", "last_error", "state", "created_at", "updated_at"]
    actions = ["enable", "disable", "evaluate_now"]
    fieldsets = [
        (None, {"fields": ["name", "description", "enabled", "metric", "kind", "severity", "labels", "summary"]}),
        ("Condition", {"fields": ["comparison", "threshold", "clear_threshold", "window_seconds"]}),
        ("Adaptive", {"fields": ["sensitivity", "band_floor"], "classes": ["collapse"]}),
        ("Predictive", {"fields": ["limit", "horizon_seconds"], "classes": ["collapse"]}),
        ("Timing", {"fields": ["for_seconds", "keep_firing_for_seconds", "repeat_interval_seconds"]}),
        ("Engine", {"fields": ["last_evaluated_at", "last_error", "state", "created_at", "updated_at"],
                    "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AlertRule]:
        return super().get_queryset(request).annotate(
            active=Count("alerts", filter=Q(alerts__state__in=["pending", "firing"])))

    @admin.display(description="active", ordering="active")
    def active_alerts(self, rule: Any) -> int:
        return int(rule.active)

    @admin.display(description="last error")
    def error(self, rule: AlertRule) -> str:
        return rule.last_error[:80]

    @admin.action(description="Enable the selected rules")
    def enable(self, request: HttpRequest, queryset: QuerySet[AlertRule]) -> None:
        self.message_user(request, f"{queryset.update(enabled=True)} rule(s) enabled.")

    @admin.action(description="Disable the selected rules")
    def disable(self, request: HttpRequest, queryset: QuerySet[AlertRule]) -> None:
        self.message_user(request, f"{queryset.update(enabled=False)} rule(s) disabled.")

    @admin.action(description="Evaluate the selected rules now")
    def evaluate_now(self, request: HttpRequest, queryset: QuerySet[AlertRule]) -> None:
        outcome = services.rules_evaluate(rule_ids=list(queryset.filter(enabled=True).values_list("id", flat=True)))
        self.message_user(request, f"Evaluated: {outcome or 'no enabled rule selected'}.")


EVENT_FIELDS = ["at", "kind", "from_state", "to_state", "value", "message", "notified", "dispatched_at", "actor"]


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    fields = tuple(EVENT_FIELDS)
    readonly_fields = EVENT_FIELDS
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def _silence(admin_: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Alert], hours: int) -> None:
    until = timezone.now() + timedelta(hours=hours)
    for alert in queryset.select_related("rule"):
        services.alert_silence(alert=alert, user=_user(request), until=until, comment="from the admin")
    admin_.message_user(request, f"{queryset.count()} alert(s) silenced for {hours} h.")


def _user(request: HttpRequest) -> Any:
    return request.user  # the admin only lets staff in: a real user


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["started_at", "rule", "state", "severity", "labels", "value", "threshold", "fired_at",
                    "resolved_at", "acknowledged_at"]
    list_filter = ["state", "severity", "rule", "started_at"]
    search_fields = ["rule__name", "message", "fingerprint", "metric"]
    list_select_related = ["rule"]
    date_hierarchy = "started_at"
    inlines = [AlertEventInline]
    actions = ["acknowledge", "silence_1h", "silence_24h", "unsilence"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description="Acknowledge (stop repeats)")
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        done = 0
        for alert in queryset:
            try:
                services.alert_acknowledge(alert=alert, user=_user(request), comment="from the admin")
                done += 1
            except ApplicationError:
                pass  # resolved meanwhile
        self.message_user(request, f"{done} alert(s) acknowledged.")

    @admin.action(description="Silence for 1 hour")
    def silence_1h(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        _silence(self, request, queryset, 1)

    @admin.action(description="Silence for 24 hours")
    def silence_24h(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        _silence(self, request, queryset, 24)

    @admin.action(description="End their silences")
    def unsilence(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        ended = sum(services.alert_unsilence(alert=alert, user=_user(request)) for alert in queryset)
        self.message_user(request, f"{ended} silence(s) ended.")


@admin.register(AlertSilence)
class AlertSilenceAdmin(admin.ModelAdmin):
    list_display = ["rule", "fingerprint", "starts_at", "ends_at", "active", "created_by", "comment"]
    list_filter = ["rule", "ends_at"]
    search_fields = ["rule__name", "fingerprint", "comment"]
    list_select_related = ["rule", "created_by"]
    readonly_fields = ["created_by", "created_at"]
    actions = ["end_now"]

    @admin.display(boolean=True)
    def active(self, silence: AlertSilence) -> bool:
        return silence.starts_at <= timezone.now() < silence.ends_at

    def save_model(self, request: HttpRequest, obj: AlertSilence, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = _user(request)
        super().save_model(request, obj, form, change)

    @admin.action(description="End the selected silences now")
    def end_now(self, request: HttpRequest, queryset: QuerySet[AlertSilence]) -> None:
        ended = queryset.filter(ends_at__gt=timezone.now()).update(ends_at=timezone.now())
        self.message_user(request, f"{ended} silence(s) ended.")


@admin.register(AlertWebhook)
class AlertWebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "format", "enabled", "min_severity", "send_resolved", "url"]
    list_filter = ["format", "enabled", "min_severity"]
    search_fields = ["name", "url"]
    actions = ["send_test"]

    @admin.action(description="Send a test message now")
    def send_test(self, request: HttpRequest, queryset: QuerySet[AlertWebhook]) -> None:
        for webhook in queryset:
            result = notify.webhook_test(webhook=webhook)
            level = messages.SUCCESS if result.startswith("sent") else messages.ERROR
            self.message_user(request, f"{webhook.name}: {result}", level=level)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "webhook", "event", "status", "attempts", "last_status_code", "next_attempt_at",
                    "sent_at", "last_error"]
    list_filter = ["status", "webhook", "created_at"]
    search_fields = ["webhook__name", "last_error"]
    list_select_related = ["webhook", "event"]
    date_hierarchy = "created_at"
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description="Send again (failed or pending)")
    def retry(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        deliveries = list(queryset.exclude(status=WebhookDelivery.Status.SENT))
        for delivery in deliveries:
            notify.delivery_retry(delivery=delivery)
        self.message_user(request, f"{len(deliveries)} delivery(ies) queued again.")
