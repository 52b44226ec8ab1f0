"""The optimizer's audit: one row per action taken or previewed (dry run). Imported by
monitoring/models.py (the app's models)."""

from __future__ import annotations

from django.db import models


class OptimizationAction(models.Model):
    class Action(models.TextChoices):
        TEMP_CLEANUP = "temp_cleanup", "Delete old temporary files"
        LOG_COMPRESS = "log_compress", "Compress rotated logs"
        LOG_PRUNE = "log_prune", "Delete rotated logs past retention"
        L1_TRIM = "l1_trim", "Trim the L1 cache under memory pressure"
        CELERY_POOL = "celery_pool", "Grow or shrink Celery worker pools"

    class Status(models.TextChoices):
        DONE = "done"
        DRY_RUN = "dry_run", "Dry run (nothing changed)"
        FAILED = "failed"

    action = models.CharField(max_length=20, choices=Action.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    target = models.CharField(max_length=500, blank=True, help_text="The directory, the cache, the worker.")
    reason = models.CharField(max_length=500, help_text="Why it ran (the condition that held).")
    items = models.PositiveIntegerField(default=0, help_text="Files deleted or compressed, processes added...")
    bytes_freed = models.BigIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True, help_text="The files (first 200), the pool change...")
    error = models.TextField(blank=True)
    trigger = models.CharField(max_length=20, default="schedule", help_text="schedule, admin or command.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["-started_at"], name="mon_optimization_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.status} @ {self.started_at:%Y-%m-%d %H:%M:%S}"
