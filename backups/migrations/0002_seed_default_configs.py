"""The two default configurations: "system" (database + media, full daily at 02:00, kept
30 days) and "uploads" (media, incremental daily at 04:00, kept 7 days, encrypted), each with
its django-celery-beat crontab task."""

from django.db import migrations

DEFAULTS = [
    {
        "name": "system", "description": "Database and media, full every night.",
        "include_database": True, "include_media": True, "kind_policy": "full", "archive_format": "tar.zst",
        "encrypted": False, "keep_within_days": 30, "hour": "2",
    },
    {
        "name": "uploads", "description": "Uploaded media, incremental every night, encrypted.",
        "include_database": False, "include_media": True, "kind_policy": "incremental", "archive_format": "tar.zst",
        "encrypted": True, "keep_within_days": 7, "hour": "4",
    },
]


def seed(apps, schema_editor):
    BackupConfig = apps.get_model("backups", "BackupConfig")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for item in DEFAULTS:
        values = dict(item)
        hour = values.pop("hour")
        if BackupConfig.objects.filter(name=values["name"]).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute="0", hour=hour, day_of_month="*", month_of_year="*", day_of_week="*", timezone="UTC")
        config = BackupConfig.objects.create(schedule=crontab, **values)
        task, _ = PeriodicTask.objects.update_or_create(
            name=f"backups: {config.name}",
            defaults={"task": "backups.tasks.scheduled_backup", "crontab": crontab, "args": f"[{config.id}]",
                      "enabled": True,
                      "description": f"Backup of configuration {config.name!r} (edit the schedule on the configuration)."},
        )
        config.periodic_task = task
        config.save(update_fields=["periodic_task"])


def unseed(apps, schema_editor):
    BackupConfig = apps.get_model("backups", "BackupConfig")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    names = [item["name"] for item in DEFAULTS]
    PeriodicTask.objects.filter(name__in=[f"backups: {n}" for n in names]).delete()
    BackupConfig.objects.filter(name__in=names, runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("backups", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
