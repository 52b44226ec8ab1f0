from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from realtime import services
from realtime.models import ChatMessage, Notification, Room

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _RoomCounts(TypedDict):
    kept: int


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "created_by", "last_message_id", "kept_messages", "created_at"]
    list_filter = [("course", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "course__title", "created_by__username"]  # who fills the room-creation cap
    raw_id_fields = ["course", "created_by"]
    readonly_fields = ["last_message_id", "created_at"]
    actions = ["prune", "clear_history"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        return super().get_queryset(request).select_related("course", "created_by").annotate(kept=Count("messages"))

    @admin.display(description="Kept messages", ordering="kept")
    def kept_messages(self, room: WithAnnotations[Room, _RoomCounts]) -> int:
        return room.kept

    @admin.action(description="Prune selected rooms to the retention (REALTIME_CHAT_KEEP)")
    def prune(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        deleted = sum(services.room_prune(room=room) for room in queryset)
        self.message_user(request, f"{deleted} old message(s) deleted.")

    @admin.action(description="Clear the whole history of selected rooms")
    def clear_history(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        deleted = sum(services.room_clear(room=room) for room in queryset)
        self.message_user(request, f"{deleted} message(s) deleted; clients see recovered: false.", messages.WARNING)


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "user", "excerpt", "created_at"]
    list_filter = [("room", admin.RelatedOnlyFieldListFilter), ("user", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["body", "user__username", "room__name", "client_id"]
    list_select_related = ["room", "user"]
    raw_id_fields = ["room", "user"]
    readonly_fields = ["room", "seq", "user", "client_id", "created_at"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]

    @admin.display(description="Message")
    def excerpt(self, message: ChatMessage) -> str:
        return message.body if len(message.body) <= 80 else f"{message.body[:79]}…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages come through the socket, with their per-room id


class ReadFilter(admin.SimpleListFilter):
    title = "read"
    parameter_name = "read"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Read"), ("no", "Unread")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Notification]) -> QuerySet[Notification]:
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "level", "broadcast", "is_read", "sender", "created_at"]
    list_filter = ["level", "broadcast", ReadFilter, "created_at"]
    search_fields = ["title", "message", "user__username"]
    list_select_related = ["user", "sender"]
    raw_id_fields = ["user", "sender"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"
    actions = ["mark_read", "mark_unread", "push_again"]

    @admin.display(boolean=True, description="Read")
    def is_read(self, notification: Notification) -> bool:
        return notification.is_read

    @admin.action(description="Mark selected notifications read")
    def mark_read(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = services.notification_set_read(notifications=queryset, read=True)
        self.message_user(request, f"{count} notification(s) marked read.")

    @admin.action(description="Mark selected notifications unread")
    def mark_unread(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = services.notification_set_read(notifications=queryset, read=False)
        self.message_user(request, f"{count} notification(s) marked unread.")

    @admin.action(description="Push selected notifications live again")
    def push_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        for notification in queryset:
            services.notification_push(notification=notification)
        self.message_user(request, f"{queryset.count()} notification(s) pushed to connected users.")
