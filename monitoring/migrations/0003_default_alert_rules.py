"""The default alert rules (docs/alerts.md). Created once by name: an operator's edits, or a rule
they deleted, are left alone by later migrations."""

from django.db import migrations

HOUR = 3600

RULES = [
    dict(name="CPU saturated", metric="cpu_percent", threshold=90.0, clear_threshold=80.0, for_seconds=300,
         keep_firing_for_seconds=120, severity="warning",
         summary="CPU busy {value:.0f}% on {host} (above {threshold:g}% for 5 min)",
         description="Whole-machine CPU above 90 % for 5 minutes; clears below 80 %."),
    dict(name="Memory pressure", metric="memory_percent", threshold=90.0, clear_threshold=85.0, for_seconds=300,
         keep_firing_for_seconds=120, severity="warning",
         summary="Memory {value:.0f}% used on {host} (above {threshold:g}%)",
         description="Memory in use (total - available) above 90 % for 5 minutes; clears below 85 %."),
    dict(name="Disk almost full", metric="disk_percent", threshold=90.0, clear_threshold=85.0, for_seconds=300,
         severity="critical", summary="Data disk {value:.1f}% full on {host}",
         description="The mount holding the data directory above 90 % used; clears below 85 %."),
    dict(name="Disk will fill within 24 h", metric="disk_percent", kind="predictive", threshold=60.0, limit=100.0,
         horizon_seconds=24 * HOUR, window_seconds=6 * HOUR, for_seconds=HOUR, severity="warning",
         summary="Data disk on {host} full in {time_to_limit} ({value:.0f}% used)",
         description="node_exporter's rule: less than 40 % free and the 6 h trend reaches 100 % within 24 h, "
                     "for 1 h."),
    dict(name="Disk will fill within 4 h", metric="disk_percent", kind="predictive", threshold=80.0, limit=100.0,
         horizon_seconds=4 * HOUR, window_seconds=6 * HOUR, for_seconds=HOUR, severity="critical",
         summary="Data disk on {host} full in {time_to_limit} ({value:.0f}% used)",
         description="node_exporter's critical rule: less than 20 % free and full within 4 h, for 1 h."),
    dict(name="High error rate", metric="http_error_rate", threshold=5.0, clear_threshold=2.0, window_seconds=300,
         for_seconds=300, keep_firing_for_seconds=120, severity="critical",
         summary="{value:.1f}% of requests answered 5xx over 5 min (above {threshold:g}%)",
         description="5xx share of all requests over 5 minutes above 5 % (with at least "
                     "MONITORING_ALERTS_MIN_REQUESTS requests); clears below 2 %."),
    dict(name="Slow responses (p95)", metric="http_latency_p95_ms", threshold=1000.0, clear_threshold=700.0,
         window_seconds=300, for_seconds=600, keep_firing_for_seconds=120, severity="warning",
         summary="p95 latency {value:.0f} ms over 5 min (above {threshold:g} ms)",
         description="95th percentile latency over 5 minutes above 1 s for 10 minutes; clears below 700 ms."),
    dict(name="Celery backlog", metric="celery_queue_length", threshold=100.0, clear_threshold=20.0,
         for_seconds=600, severity="warning", summary="{value:.0f} Celery tasks waiting (above {threshold:g})",
         description="More than 100 tasks waiting in the Celery queues for 10 minutes; clears below 20."),
    dict(name="Backup failed or missing", metric="backup_problem", threshold=0.5, severity="critical",
         repeat_interval_seconds=12 * HOUR,
         summary="Backup configuration {config}: the latest run failed or no recent success",
         description="The latest run of a backup configuration failed, or its last success is older than "
                     "MONITORING_ALERTS_BACKUP_MAX_AGE_HOURS (facts from MONITORING_ALERTS_BACKUP_FACTS)."),
    dict(name="Health check failing", metric="health_check_failing", threshold=0.5, for_seconds=120,
         severity="critical", summary="Health check {check} failing for 2 min",
         description="A health check (database, cache, channel layer, Celery, disk) failing for 2 minutes."),
]


def seed(apps, schema_editor):
    AlertRule = apps.get_model("monitoring", "AlertRule")
    for rule in RULES:
        fields = {"kind": "static", "comparison": "above", **rule}
        AlertRule.objects.get_or_create(name=fields.pop("name"), defaults=fields)


def unseed(apps, schema_editor):
    AlertRule = apps.get_model("monitoring", "AlertRule")
    AlertRule.objects.filter(name__in=[rule["name"] for rule in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0002_alerts")]

    operations = [migrations.RunPython(seed, unseed)]
