from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tecnocursos.core import outbox, services
from tecnocursos.core.models import Course, Enrollment, OutboxMessage, Upload


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "is_published", "created_at"]
    list_filter = ["is_published", "created_at"]
    search_fields = ["title", "description", "owner__username"]
    raw_id_fields = ["owner"]
    inlines = [EnrollmentInline]
    actions = ["publish", "unpublish"]

    @admin.action(description="Publish selected courses")
    def publish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        self.message_user(request, f"{queryset.update(is_published=True)} course(s) published.")

    @admin.action(description="Unpublish selected courses")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        self.message_user(request, f"{queryset.update(is_published=False)} course(s) unpublished.")


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["user__username", "course__title"]
    raw_id_fields = ["user", "course"]


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["original_name", "owner", "course", "status", "detected_type", "size", "created_at", "attempts"]
    list_filter = ["status", "detected_type", "created_at"]
    search_fields = ["original_name", "owner__username", "checksum", "task_id"]
    raw_id_fields = ["owner", "course"]
    readonly_fields = ["task_id", "checksum", "detected_type", "size", "started_at", "finished_at",
                       "failure_reason", "attempts", "created_at", "queued_at", "heartbeat_at"]
    date_hierarchy = "created_at"
    actions = ["retry"]

    @admin.action(description="Retry processing of failed uploads")
    def retry(self, request: HttpRequest, queryset: QuerySet[Upload]) -> None:
        failed = list(queryset.filter(status=Upload.Status.FAILED))
        for upload in failed:
            services.upload_retry(upload=upload)
        level = messages.SUCCESS if failed else messages.WARNING
        self.message_user(request, f"{len(failed)} failed upload(s) queued again.", level)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "args", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "task", "created_at"]
    search_fields = ["task", "last_error"]
    readonly_fields = ["task", "args", "created_at", "sent_at", "attempts", "last_error"]
    date_hierarchy = "created_at"
    actions = ["send_waiting"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages come from committed work only

    @admin.action(description="Send waiting messages now (oldest first)")
    def send_waiting(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        result = outbox.outbox_relay()
        level = messages.WARNING if result.get("failed") else messages.SUCCESS
        self.message_user(request, f"{result['sent']} sent, {result['waiting']} still waiting.", level)
