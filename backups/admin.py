from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html_join

from backups import selectors, services
from backups.models import BackupConfig, BackupManifest, BackupRun
from tecnocursos.core.exceptions import ApplicationError


@admin.register(BackupConfig)
class BackupConfigAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "sources", "kind_policy", "archive_format", "encrypted", "destination",
                    "schedule", "retention"]
    list_filter = ["enabled", "kind_policy", "archive_format", "encrypted", "destination"]
    search_fields = ["name", "description"]
    readonly_fields = ["periodic_task", "created_at", "updated_at"]
    actions = ["run_now"]
    fieldsets = [
        (None, {"fields": ["name", "description", "enabled"]}),
        ("Sources", {"fields": ["include_database", "include_media", "extra_directories"]}),
        ("Schedule and kind", {"fields": ["schedule", "periodic_task", "kind_policy", "full_every"]}),
        ("Archive", {"fields": ["archive_format", "compression_level", "encrypted", "destination"]}),
        ("Retention (like restic forget; all zero keeps everything)",
         {"fields": ["keep_last", "keep_daily", "keep_weekly", "keep_monthly", "keep_within_days"]}),
        ("Hooks", {"fields": ["pre_hooks", "post_hooks"]}),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="sources")
    def sources(self, config: BackupConfig) -> str:
        parts = (["database"] if config.include_database else []) + (["media"] if config.include_media else [])
        return ", ".join(parts + list(config.extra_directories)) or "-"

    @admin.display(description="retention")
    def retention(self, config: BackupConfig) -> str:
        rules = [f"{name.removeprefix('keep_')}={getattr(config, name)}"
                 for name in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly", "keep_within_days")
                 if getattr(config, name)]
        return ", ".join(rules) or "keep all"

    def save_model(self, request: HttpRequest, obj: BackupConfig, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.config_sync_schedule(config=obj)

    @admin.action(description="Run a backup now")
    def run_now(self, request: HttpRequest, queryset: QuerySet[BackupConfig]) -> None:
        for config in queryset:
            try:
                run = services.backup_request(config=config, user=request.user, trigger=BackupRun.Trigger.ADMIN)
                self.message_user(request, f"{config.name}: run {run.id} queued.", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, f"{config.name}: {exc.message}", messages.WARNING)


@admin.register(BackupRun)
class BackupRunAdmin(admin.ModelAdmin):
    list_display = ["id", "config", "kind", "status", "created_at", "finished_at", "bytes_out", "file_count",
                    "encrypted", "destination", "verify_ok"]
    list_filter = ["status", "kind", "config", "destination", "encrypted", "verify_ok", "trigger"]
    search_fields = ["=id", "config__name", "checksum", "archive_name", "error", "key_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["parent", "requested_by"]
    actions = ["verify", "restore"]
    list_select_related = ["config"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in BackupRun._meta.fields] + ["chain", "manifest_summary"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs come from configurations (the "run now" action)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="chain (runs whose archives it needs)")
    def chain(self, run: BackupRun) -> str:
        ids, parent = [], run.parent
        while parent is not None:
            ids.append(str(parent.id))
            parent = parent.parent
        return " <- ".join([str(run.id), *ids])

    @admin.display(description="manifest")
    def manifest_summary(self, run: BackupRun) -> str:
        try:
            manifest = selectors.manifest_of(run=run)
        except ApplicationError as exc:
            return exc.message
        files = list(manifest.files())
        rows = [("files", len(files)), ("stored in this run", sum(1 for f in files if f.stored_in == run.id)),
                ("deleted since parent", len(manifest.deleted)), ("sources", ", ".join(manifest.sources)),
                ("database engine", manifest.db_engine or "-")]
        return format_html_join("", "<div>{}: {}</div>", rows)

    @admin.action(description="Verify selected runs (in the background)")
    def verify(self, request: HttpRequest, queryset: QuerySet[BackupRun]) -> None:
        for run in queryset:
            try:
                services.backup_verify_request(run=run, user=request.user)
                self.message_user(request, f"Run {run.id}: verification queued; the result lands on the run.")
            except ApplicationError as exc:
                self.message_user(request, f"Run {run.id}: {exc.message}", messages.WARNING)

    @admin.action(description="Restore selected runs into a new directory")
    def restore(self, request: HttpRequest, queryset: QuerySet[BackupRun]) -> None:
        for run in queryset:
            try:
                target = services.backup_restore_request(run=run, user=request.user)
                self.message_user(request, f"Run {run.id}: restoring into {target}; you will be notified.")
            except ApplicationError as exc:
                self.message_user(request, f"Run {run.id}: {exc.message}", messages.WARNING)


@admin.register(BackupManifest)
class BackupManifestAdmin(admin.ModelAdmin):
    list_display = ["run", "entries"]
    search_fields = ["=run__id", "run__config__name"]
    list_filter = ["run__config"]
    raw_id_fields = ["run"]
    readonly_fields = ["run", "entries"]
    exclude = ["data"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
