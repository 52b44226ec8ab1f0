"""Every periodic task of the project, declared in one place.

`schedule_sync()` writes them to django-celery-beat's tables after each migrate.
A task is created once by name; afterwards only its task path is kept in step,
so an operator's edits in the admin (interval, enabled, arguments) survive.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every_seconds: int
    description: str = ""


PERIODIC_TASKS: list[Periodic] = [
    Periodic(
        name="core: requeue stale uploads",
        task="tecnocursos.core.tasks.requeue_stale_uploads",
        every_seconds=15,
        description="Uploads whose worker stopped beating (died) or whose message was lost go back to the queue; "
                    "failed after 3 attempts.",
    ),
    Periodic(
        name="core: relay the outbox",
        task="tecnocursos.core.tasks.relay_outbox",
        every_seconds=10,
        description="Sends tasks that committed work queued while the broker was unreachable.",
    ),
    Periodic(
        name="core: prune the outbox",
        task="tecnocursos.core.tasks.prune_outbox",
        every_seconds=86400,
        description="Forgets outbox messages sent more than a week ago.",
    ),
    Periodic(
        name="monitoring: collect system sample",
        task="monitoring.tasks.collect_system",
        every_seconds=getattr(settings, "MONITORING_COLLECT_INTERVAL", 10),
        description="CPU, memory, swap, disks, network and this deployment's processes: one snapshot row.",
    ),
    Periodic(
        name="monitoring: roll up metrics",
        task="monitoring.tasks.rollup_metrics",
        every_seconds=60,
        description="Closed minutes of snapshots and request/task counts into per-minute and per-hour rollups.",
    ),
    Periodic(
        name="monitoring: enforce retention",
        task="monitoring.tasks.enforce_retention",
        every_seconds=3600,
        description="Deletes snapshots and rollups older than their tier's retention (MONITORING_*_RETENTION_*).",
    ),
    # Each backup configuration has its own crontab task (backups.services.config_sync_schedule).
    Periodic(
        name="backups: fail stale runs",
        task="backups.tasks.fail_stale_backups",
        every_seconds=300,
        description="Runs whose process died are marked failed and their temporary data removed.",
    ),
    Periodic(
        name="backups: verify newest runs",
        task="backups.tasks.verify_latest_backups",
        every_seconds=24 * 3600,
        description="Decrypts and checks the newest run of every configuration; staff are alerted on failure.",
    ),
    Periodic(
        name="backups: apply retention",
        task="backups.tasks.prune_backups",
        every_seconds=24 * 3600,
        description="Deletes the runs no retention rule keeps (never one a kept run depends on).",
    ),
    Periodic(
        name="monitoring: evaluate alert rules",
        task="monitoring.alerting.tasks.evaluate_alerts",
        every_seconds=getattr(settings, "MONITORING_ALERTS_EVALUATE_SECONDS", 30),
        description="Every enabled alert rule (each collection also triggers an evaluation; this covers pauses "
                    "and the rules that read no sample: health checks, backups).",
    ),
    Periodic(
        name="monitoring: sweep alert notifications",
        task="monitoring.alerting.tasks.sweep_alert_notifications",
        every_seconds=60,
        description="Requeues alert notifications and webhook deliveries a lost message or a dead worker left.",
    ),
    Periodic(
        name="monitoring: detect bottlenecks",
        task="monitoring.insights.tasks.detect_bottlenecks",
        every_seconds=300,
        description="CPU, memory, swap, disk I/O, slow and N+1 endpoints, cache hit rate, Celery backlog, "
                    "WebSocket queues: findings with evidence and recommendations (admin, "
                    "/api/analytics/recommendations).",
    ),
    Periodic(
        name="monitoring: optimizer",
        task="monitoring.optimizer.tasks.run_optimizer",
        every_seconds=300,
        description="The optimizer's enabled actions (MONITORING_OPTIMIZER_ACTIONS; none by default), recorded "
                    "in the admin's optimization actions.",
    ),
]


def schedule_sync(tasks: list[Periodic] | None = None) -> int:
    """Create missing periodic tasks; return how many were created."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = 0
    with transaction.atomic():
        for item in tasks if tasks is not None else PERIODIC_TASKS:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=item.every_seconds, period=IntervalSchedule.SECONDS
            )
            task, was_created = PeriodicTask.objects.get_or_create(
                name=item.name,
                defaults={"task": item.task, "interval": interval, "description": item.description},
            )
            if not was_created and task.task != item.task:
                task.task = item.task  # code moved: follow it, keep the operator's settings
                task.save(update_fields=["task"])
            created += was_created
    return created
