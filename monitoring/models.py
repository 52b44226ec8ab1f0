"""What monitoring keeps: wide system snapshots, and rollups per minute and per hour.

Snapshots hold one column per series of `catalog.SNAPSHOT_METRICS` (None when unknown,
e.g. rates in a first sample), the per-mount, per-interface and per-process detail, and
the raw counters the next sample's rates start from. Rollups keep count/sum/min/max (sum,
not the average, so that minutes add up to hours exactly); request and task rollups keep
fixed-bucket histograms, so percentiles of any range can be computed from them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Tier(models.TextChoices):
    MINUTE = "minute"
    HOUR = "hour"


def _gauge(help_text: str = "") -> models.FloatField:
    return models.FloatField(null=True, blank=True, help_text=help_text)


class SystemSnapshot(models.Model):
    timestamp = models.DateTimeField()
    host = models.CharField(max_length=255)
    interval_seconds = models.FloatField(null=True, blank=True,
                                         help_text="Since the previous sample; empty for a first sample.")

    cpu_percent = _gauge("CPU busy over the interval, all cores")
    cpu_user_percent = _gauge()
    cpu_system_percent = _gauge()
    cpu_iowait_percent = _gauge()
    cpu_steal_percent = _gauge()
    cpu_count = _gauge()
    cpu_frequency_mhz = _gauge()
    load_1 = _gauge()
    load_5 = _gauge()
    load_15 = _gauge()
    memory_total_bytes = _gauge()
    memory_available_bytes = _gauge()
    memory_used_bytes = _gauge()
    memory_cached_bytes = _gauge()
    memory_percent = _gauge()
    swap_total_bytes = _gauge()
    swap_used_bytes = _gauge()
    swap_percent = _gauge()
    swap_in_bytes_per_second = _gauge()
    swap_out_bytes_per_second = _gauge()
    disk_percent = _gauge("Space used on the mount holding the data directory")
    disk_free_bytes = _gauge()
    disk_read_bytes_per_second = _gauge()
    disk_write_bytes_per_second = _gauge()
    disk_reads_per_second = _gauge()
    disk_writes_per_second = _gauge()
    network_receive_bytes_per_second = _gauge()
    network_transmit_bytes_per_second = _gauge()
    network_receive_packets_per_second = _gauge()
    network_transmit_packets_per_second = _gauge()
    network_errors_per_second = _gauge()
    network_drops_per_second = _gauge()
    process_count = _gauge()
    process_rss_bytes = _gauge()
    process_cpu_percent = _gauge("% of one core")
    process_threads = _gauge()
    process_open_fds = _gauge()
    process_connections = _gauge()
    celery_queue_length = _gauge()
    websocket_connections = _gauge()
    websocket_users = _gauge()
    collection_cpu_seconds = _gauge("CPU time the collector spent on this sample")

    mounts = models.JSONField(default=list, blank=True)
    interfaces = models.JSONField(default=list, blank=True)
    processes = models.JSONField(default=list, blank=True)
    counters = models.JSONField(default=dict, blank=True, help_text="Raw cumulative counters for the next rates.")
    rolled_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["host", "-timestamp"], name="mon_snapshot_host_time"),
            models.Index(fields=["timestamp"], name="mon_snapshot_time"),
            models.Index(fields=["timestamp"], condition=Q(rolled_up=False), name="mon_snapshot_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.host} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class MetricRollup(models.Model):
    """One series (a snapshot column, or a labelled one) over one minute or hour of one host."""

    tier = models.CharField(max_length=6, choices=Tier.choices)
    bucket = models.DateTimeField(help_text="Start of the minute or hour.")
    host = models.CharField(max_length=255)
    metric = models.CharField(max_length=64)
    labels = models.CharField(max_length=255, blank=True, default="",
                              help_text="The mount or role of a labelled series.")
    count = models.PositiveIntegerField()
    sum = models.FloatField()
    min = models.FloatField()
    max = models.FloatField()

    class Meta:
        ordering = ["-bucket", "metric", "labels"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "bucket", "host", "metric", "labels"],
                                    name="mon_metric_rollup_unique"),
        ]
        indexes = [models.Index(fields=["metric", "tier", "bucket"], name="mon_metric_rollup_series")]

    def __str__(self) -> str:
        return f"{self.metric}{{{self.labels}}} {self.tier} {self.bucket:%Y-%m-%d %H:%M}"

    @property
    def avg(self) -> float | None:
        return self.sum / self.count if self.count else None


class RequestRollup(models.Model):
    """HTTP requests of one route and method over one minute or hour, every web process together."""

    tier = models.CharField(max_length=6, choices=Tier.choices)
    bucket = models.DateTimeField(help_text="Start of the minute or hour.")
    method = models.CharField(max_length=10)
    route = models.CharField(max_length=200, help_text="The URL pattern's name, never the raw path.")
    count = models.PositiveBigIntegerField(default=0)
    client_errors = models.PositiveBigIntegerField(default=0, help_text="4xx answers")
    server_errors = models.PositiveBigIntegerField(default=0, help_text="5xx answers")
    statuses = models.JSONField(default=dict, blank=True, help_text="Answers per status code.")
    duration_us = models.PositiveBigIntegerField(default=0, help_text="Sum of latencies, microseconds.")
    histogram = models.JSONField(default=list, blank=True,
                                 help_text="Requests per latency bucket (histogram.LATENCY_BOUNDS).")
    response_bytes = models.PositiveBigIntegerField(default=0)
    db_queries = models.PositiveBigIntegerField(default=0)
    db_time_us = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-bucket", "route", "method"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "bucket", "method", "route"], name="mon_request_rollup_unique"),
        ]
        indexes = [models.Index(fields=["tier", "bucket"], name="mon_request_rollup_time")]

    def __str__(self) -> str:
        return f"{self.method} {self.route} {self.tier} {self.bucket:%Y-%m-%d %H:%M}"

    @property
    def avg_ms(self) -> float | None:
        return round(self.duration_us / self.count / 1000, 3) if self.count else None


class TaskRollup(models.Model):
    """Celery task runs of one task name over one minute or hour, every worker together."""

    tier = models.CharField(max_length=6, choices=Tier.choices)
    bucket = models.DateTimeField()
    task = models.CharField(max_length=200)
    count = models.PositiveBigIntegerField(default=0)
    failures = models.PositiveBigIntegerField(default=0)
    retries = models.PositiveBigIntegerField(default=0)
    states = models.JSONField(default=dict, blank=True)
    runtime_us = models.PositiveBigIntegerField(default=0)
    histogram = models.JSONField(default=list, blank=True, help_text="Runs per runtime bucket (histogram.TASK_BOUNDS).")

    class Meta:
        ordering = ["-bucket", "task"]
        constraints = [models.UniqueConstraint(fields=["tier", "bucket", "task"], name="mon_task_rollup_unique")]
        indexes = [models.Index(fields=["tier", "bucket"], name="mon_task_rollup_time")]

    def __str__(self) -> str:
        return f"{self.task} {self.tier} {self.bucket:%Y-%m-%d %H:%M}"


class ActiveUserDay(models.Model):
    """A user who made authenticated requests on a day (UTC): exact active-user counts for any range."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    requests = models.PositiveBigIntegerField(default=0)
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["-day", "-requests"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="mon_active_user_day_unique")]
        indexes = [models.Index(fields=["day"], name="mon_active_user_day"),
                   models.Index(fields=["-last_seen"], name="mon_active_user_seen")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}"


class RollupClaim(models.Model):
    """A per-minute batch from Redis already added to the rollups: makes a replay a no-op."""

    token = models.CharField(max_length=200, unique=True)
    minute = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.token


# Alerts (part 2): their own module, registered with this app by being imported here.
from monitoring.alerting.models import (  # noqa: E402
    Alert,
    AlertEvent,
    AlertRule,
    AlertSilence,
    AlertWebhook,
    WebhookDelivery,
)

__all__ = ["ActiveUserDay", "Alert", "AlertEvent", "AlertRule", "AlertSilence", "AlertWebhook", "MetricRollup",
           "RequestRollup", "RollupClaim", "SystemSnapshot", "TaskRollup", "Tier", "WebhookDelivery"]
from monitoring.insights.models import Finding  # noqa: E402

__all__ += ["Finding"]
from monitoring.optimizer.models import OptimizationAction  # noqa: E402

__all__ += ["OptimizationAction"]
