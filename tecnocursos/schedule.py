"""Every periodic task of the project, declared in one place.

`schedule_sync()` writes them to django-celery-beat's tables after each migrate.
A task is created once by name; afterwards only its task path is kept in step,
so an operator's edits in the admin (interval, enabled, arguments) survive.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        every_seconds=300,
        description="Uploads stuck in processing (a worker died) go back to the queue, or fail after 3 attempts.",
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
