"""Backup configurations, the history of runs, and each run's manifest."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from backups.engine.archive import LEVEL_RANGES
from backups.engine.retention import Policy


class BackupConfig(models.Model):
    class KindPolicy(models.TextChoices):
        FULL = "full", "full every run"
        INCREMENTAL = "incremental", "incremental against the previous run"
        DIFFERENTIAL = "differential", "differential against the last full"
        FULL_EVERY_N = "full_every_n", "full every N runs, incremental between"

    class Format(models.TextChoices):
        TAR_GZ = "tar.gz"
        TAR_ZST = "tar.zst"
        ZIP = "zip"

    class Destination(models.TextChoices):
        LOCAL = "local", "local directory (BACKUP_ROOT)"
        S3 = "s3", "S3-compatible storage (BACKUP_S3_*)"

    name = models.SlugField(max_length=64, unique=True, help_text="Used in the API and commands.")
    description = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True, help_text="Off: the schedule does not run it (manual runs still do).")
    include_database = models.BooleanField(default=False)
    include_media = models.BooleanField(default=False)
    extra_directories = models.JSONField(
        default=list, blank=True,
        help_text="Names of directories from the BACKUP_EXTRA_DIRECTORIES setting.",
    )
    schedule = models.ForeignKey(CrontabSchedule, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="Empty: manual runs only.")
    periodic_task = models.OneToOneField(PeriodicTask, null=True, blank=True, editable=False,
                                         on_delete=models.SET_NULL, related_name="+")
    kind_policy = models.CharField(max_length=16, choices=KindPolicy.choices, default=KindPolicy.FULL)
    full_every = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="With 'full every N runs': a full run, then N-1 incremental ones.",
    )
    archive_format = models.CharField(max_length=8, choices=Format.choices, default=Format.TAR_ZST)
    compression_level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: the format's default (gzip/zip 6, zstd 3).")
    encrypted = models.BooleanField(default=False, help_text="AES-256-GCM with the newest key of the key ring.")
    destination = models.CharField(max_length=8, choices=Destination.choices, default=Destination.LOCAL)
    keep_last = models.PositiveIntegerField(default=0)
    keep_daily = models.PositiveIntegerField(default=0)
    keep_weekly = models.PositiveIntegerField(default=0)
    keep_monthly = models.PositiveIntegerField(default=0)
    keep_within_days = models.PositiveIntegerField(
        default=0, help_text="Keep every run within this many days of the newest one (0: off).")
    pre_hooks = models.JSONField(default=list, blank=True, help_text="Names from the BACKUP_HOOKS setting.")
    post_hooks = models.JSONField(default=list, blank=True, help_text="Names from the BACKUP_HOOKS setting.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def retention(self) -> Policy:
        return Policy(keep_last=self.keep_last, keep_daily=self.keep_daily, keep_weekly=self.keep_weekly,
                      keep_monthly=self.keep_monthly,
                      keep_within=timedelta(days=self.keep_within_days) if self.keep_within_days else None)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not (self.include_database or self.include_media or self.extra_directories):
            errors["include_media"] = "Choose at least one source: the database, the media, or extra directories."
        extra = getattr(settings, "BACKUP_EXTRA_DIRECTORIES", {})
        if not isinstance(self.extra_directories, list) or any(n not in extra for n in self.extra_directories):
            known = ", ".join(extra) or "none"
            errors["extra_directories"] = f"A list of names from BACKUP_EXTRA_DIRECTORIES ({known})."
        hooks = getattr(settings, "BACKUP_HOOKS", {})
        for name in ("pre_hooks", "post_hooks"):
            value = getattr(self, name)
            if not isinstance(value, list) or any(h not in hooks for h in value):
                errors[name] = f"A list of names from BACKUP_HOOKS ({', '.join(hooks) or 'none'})."
        if self.compression_level is not None:
            low, high = LEVEL_RANGES[self.archive_format]
            if not low <= self.compression_level <= high:
                errors["compression_level"] = f"{self.archive_format} takes levels {low}-{high}."
        if errors:
            raise ValidationError(errors)


class BackupRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"
        DIFFERENTIAL = "differential"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        API = "api"
        ADMIN = "admin"
        COMMAND = "command"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    config = models.ForeignKey(BackupConfig, on_delete=models.PROTECT, related_name="runs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # PROTECT: a run whose archive another run needs cannot be deleted before it.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text="The run this one stores changes against.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.API)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    task_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the process running it.")
    archive_format = models.CharField(max_length=8, choices=BackupConfig.Format.choices)
    encrypted = models.BooleanField(default=False)
    key_id = models.CharField(max_length=64, blank=True)
    destination = models.CharField(max_length=8, choices=BackupConfig.Destination.choices)
    archive_name = models.CharField(max_length=400, blank=True)
    temp_ref = models.CharField(max_length=600, blank=True, help_text="Partial upload to remove if the run dies.")
    db_engine = models.CharField(max_length=16, blank=True)
    bytes_in = models.BigIntegerField(default=0, help_text="Size of every file of the tree.")
    bytes_stored = models.BigIntegerField(default=0, help_text="File bytes written into this run's archive.")
    bytes_out = models.BigIntegerField(default=0, help_text="Size of the archive as stored.")
    file_count = models.PositiveIntegerField(default=0)
    files_stored = models.PositiveIntegerField(default=0)
    files_deleted = models.PositiveIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the archive as stored.")
    error = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_ok = models.BooleanField(null=True, blank=True)
    verify_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["config", "status", "-created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["config"], condition=Q(status__in=["queued", "running"]),
                                    name="backups_one_active_run_per_config"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.config.name if self.config_id else '-'} {self.kind} ({self.status})"


class BackupManifest(models.Model):
    run = models.OneToOneField(BackupRun, on_delete=models.CASCADE, related_name="manifest")
    data = models.BinaryField(help_text="zstd-compressed JSON (backups.engine.manifest).")
    entries = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"manifest of run {self.run_id}"
