"""Findings of bottleneck detection: open while detection still sees them, then resolved.
Imported by monitoring/models.py (the app's models)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Finding(models.Model):
    class Kind(models.TextChoices):
        CPU_SATURATION = "cpu_saturation", "CPU saturation"
        MEMORY_PRESSURE = "memory_pressure", "Memory pressure"
        SWAPPING = "swapping", "Swapping"
        DISK_IO_SATURATION = "disk_io_saturation", "Disk I/O saturation"
        SLOW_ENDPOINT = "slow_endpoint", "Slow endpoint"
        N_PLUS_ONE = "n_plus_one", "N+1 queries"
        MANY_QUERIES = "many_queries", "Many queries per request"
        LOW_CACHE_HIT_RATE = "low_cache_hit_rate", "Low cache hit rate"
        CELERY_QUEUE_GROWING = "celery_queue_growing", "Celery backlog growing"
        WEBSOCKET_QUEUE_NEAR_CAPACITY = "websocket_queue_near_capacity", "WebSocket queues near capacity"

    class Severity(models.TextChoices):
        INFO = "info"
        WARNING = "warning"
        CRITICAL = "critical"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    subject = models.CharField(max_length=300, help_text="What it is about: a host, an endpoint, the cache...")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    title = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict, help_text="The numbers that show it.")
    recommendation = models.TextField()
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="When detection stopped seeing it.")
    occurrences = models.PositiveIntegerField(default=1, help_text="Detection runs that saw it.")

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"], condition=Q(resolved_at__isnull=True),
                                    name="mon_finding_one_open_per_subject"),
        ]
        indexes = [models.Index(fields=["resolved_at", "-last_seen_at"], name="mon_finding_open")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
