"""Requesting, claiming and performing backup runs; schedules of configurations."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from backups import hooks, keys, selectors
from backups.engine.archive import suffix
from backups.engine.crypto import Key
from backups.engine.destinations import Destination, DestinationError
from backups.engine.pipeline import BackupSpec, write_backup
from backups.engine.scan import Source
from backups.models import BackupConfig, BackupManifest, BackupRun
from backups.services.common import Heartbeat, Progress, Reporter, notify, scratch_root, user_pk, worker_id
from backups.services.database import dump_database
from backups.signals import backup_finished, backup_started
from backups.storage import destination_for
from tecnocursos.core.exceptions import ApplicationError
from tecnocursos.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)


def config_sync_schedule(*, config: BackupConfig) -> None:
    """Keep the config's django-celery-beat task in step with its crontab and `enabled`."""
    from django_celery_beat.models import PeriodicTask

    name = f"backups: {config.name}"
    if config.schedule_id is None:
        if config.periodic_task_id is not None:
            PeriodicTask.objects.filter(id=config.periodic_task_id).delete()
            BackupConfig.objects.filter(id=config.id).update(periodic_task=None)
            config.periodic_task = None
        return
    values = {
        "name": name, "task": "backups.tasks.scheduled_backup", "crontab": config.schedule, "interval": None,
        "args": f"[{config.id}]", "enabled": config.enabled,
        "description": f"Backup of configuration {config.name!r} (edit the schedule on the configuration).",
    }
    task = PeriodicTask.objects.filter(id=config.periodic_task_id).first() if config.periodic_task_id else None
    if task is None:
        task = PeriodicTask.objects.filter(name=name).first() or PeriodicTask(name=name)
    for attr, value in values.items():
        setattr(task, attr, value)
    task.save()
    if config.periodic_task_id != task.id:
        BackupConfig.objects.filter(id=config.id).update(periodic_task=task)
        config.periodic_task = task


def choose_kind(config: BackupConfig, requested: str | None) -> tuple[str, BackupRun | None]:
    """(kind, parent) from the config's policy, or the caller's choice when it has a base."""
    completed = BackupRun.objects.filter(config=config, status=BackupRun.Status.COMPLETED, manifest__isnull=False)
    latest = completed.order_by("-finished_at", "-id").first()
    last_full = completed.filter(kind=BackupRun.Kind.FULL).order_by("-finished_at", "-id").first()
    kind = requested or config.kind_policy
    if kind == BackupConfig.KindPolicy.FULL_EVERY_N:
        since_full = completed.filter(finished_at__gt=last_full.finished_at).count() if last_full else 0
        kind = "incremental" if last_full and since_full + 1 < config.full_every else "full"
    if kind == "incremental" and latest is not None:
        return "incremental", latest
    if kind == "differential" and last_full is not None:
        return "differential", last_full
    return "full", None


def create_run(*, config: BackupConfig, user: AbstractBaseUser | AnonymousUser | None, trigger: str,
                kind: str | None) -> BackupRun:
    predicted, _ = choose_kind(config, kind)
    try:
        with transaction.atomic():
            return BackupRun.objects.create(
                config=config, kind=predicted, trigger=trigger, requested_by_id=user_pk(user),
                archive_format=config.archive_format, encrypted=config.encrypted, destination=config.destination,
            )
    except IntegrityError:
        active = BackupRun.objects.filter(config=config, status__in=BackupRun.ACTIVE).first()
        raise ApplicationError(
            f"A run of {config.name!r} is already {active.status if active else 'active'}"
            f"{f' (run {active.id})' if active else ''}; one run per configuration at a time.",
            status_code=409,
        ) from None


def backup_request(*, config: BackupConfig, user: AbstractBaseUser | AnonymousUser | None = None, trigger: str = "api",
                   kind: str | None = None) -> BackupRun:
    """Create a queued run and its task message in one transaction (the outbox sends it after
    commit, or later if the broker is down); 409 if the config has one active."""
    with transaction.atomic():
        run = create_run(config=config, user=user, trigger=trigger, kind=kind)
        outbox_enqueue("backups.tasks.run_backup", run.id, kind)
    return run


def claim(run_id: int) -> BackupRun | None:
    """queued -> running; exactly one process wins, the others get None."""
    now = timezone.now()
    claimed = BackupRun.objects.filter(id=run_id, status=BackupRun.Status.QUEUED).update(
        status=BackupRun.Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker_id()
    )
    return BackupRun.objects.select_related("config", "requested_by").get(id=run_id) if claimed == 1 else None


def _sources(config: BackupConfig, scratch: Path) -> tuple[list[Source], str]:
    sources: list[Source] = []
    engine = ""
    if config.include_database:
        dump, engine = dump_database(scratch)
        sources.append(Source("database", dump))
    if config.include_media:
        media = Path(settings.MEDIA_ROOT)
        media.mkdir(parents=True, exist_ok=True)  # a fresh install has none yet: back up an empty tree
        sources.append(Source("media", media))
    extra = settings.BACKUP_EXTRA_DIRECTORIES
    for name in config.extra_directories:
        if name not in extra:
            raise ApplicationError(f"extra directory {name!r} is not in BACKUP_EXTRA_DIRECTORIES")
        sources.append(Source(f"extra-{name}", Path(extra[name])))
    if not sources:
        raise ApplicationError(f"configuration {config.name!r} has no sources")
    return sources, engine


def _encryption_key(run: BackupRun) -> Key | None:
    return keys.key_ring().current if run.encrypted else None


def _write(run: BackupRun, destination: Destination, progress: Progress) -> None:
    config = run.config
    key = _encryption_key(run)
    base = selectors.manifest_of(run=run.parent) if run.parent_id else None
    stamp = (run.started_at or timezone.now()).strftime("%Y%m%dT%H%M%SZ")
    name = f"{config.name}/{stamp}-{run.id}-{run.kind}{suffix(run.archive_format, key is not None)}"
    with tempfile.TemporaryDirectory(prefix=f"run-{run.id}-", dir=scratch_root()) as scratch:
        sources, engine = _sources(config, Path(scratch))
        writer = destination.writer(name)
        # Recorded before any byte is written: the crash cleanup knows what to remove.
        BackupRun.objects.filter(id=run.id).update(archive_name=name, temp_ref=writer.temp_ref,
                                                   key_id=key.id if key else "", db_engine=engine)
        spec = BackupSpec(run_id=run.id, kind=run.kind, parent_id=run.parent_id,
                          created_at=(run.started_at or timezone.now()).isoformat(),
                          archive_format=run.archive_format, sources=sources, base=base,
                          level=config.compression_level, db_engine=engine, threads=settings.BACKUP_COMPRESS_THREADS)
        try:
            result = write_backup(spec, writer, key=key, chunk_size=settings.BACKUP_CHUNK_BYTES, progress=progress)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
    try:
        with transaction.atomic():
            BackupManifest.objects.create(run=run, data=result.manifest_bytes,
                                          entries=len(result.manifest.entries))
            completed = BackupRun.objects.filter(id=run.id, status=BackupRun.Status.RUNNING).update(
                status=BackupRun.Status.COMPLETED, finished_at=timezone.now(), temp_ref="",
                bytes_in=result.bytes_in, bytes_stored=result.bytes_stored, bytes_out=result.bytes_out,
                file_count=sum(1 for _ in result.manifest.files()), files_stored=result.files_stored,
                files_deleted=len(result.manifest.deleted), checksum=result.sha256,
                error="" if not result.skipped else "Skipped: " + "; ".join(result.skipped[:50]),
            )
            if completed != 1:  # failed meanwhile (an operator, the stale sweep): not ours to complete
                raise RuntimeError("the run was marked failed while it ran; its archive is discarded")
    except BaseException:
        destination.delete(name)  # no completed record: no archive under a final name either
        raise


def backup_execute(*, run_id: int, kind: str | None = None, progress: Progress | None = None) -> BackupRun | None:
    """Claim a queued run and perform it; returns the finished run, or None if another
    process had claimed it. Failures are recorded on the run, never raised."""
    run = claim(run_id)
    if run is None:
        return None
    reporter = Reporter(run, "Backing up", progress)
    reporter.event(0, "running", f"Backup of {run.config.name} started")
    try:
        with Heartbeat(run.id):
            hooks.run_pre_hooks(run.config.pre_hooks, run)
            with transaction.atomic():
                run.kind, run.parent = choose_kind(run.config, kind if kind else None)
                run.save(update_fields=["kind", "parent"])
            backup_started.send(sender=BackupRun, run=run)
            _write(run, destination_for(run.destination), reporter)
    except Exception as exc:  # recorded on the run; the worker loop goes on
        logger.exception("backup run %s failed", run.id)
        _fail(run, f"{type(exc).__name__}: {exc}" if not isinstance(exc, hooks.HookFailed) else str(exc))
    run.refresh_from_db()
    errors = hooks.run_post_hooks(run.config.post_hooks, run)
    if errors:
        BackupRun.objects.filter(id=run.id).update(error="\n".join(filter(None, [run.error, *errors]))[:10000])
        run.refresh_from_db()
    backup_finished.send(sender=BackupRun, run=run, ok=run.status == BackupRun.Status.COMPLETED)
    announce(run)
    return run


def _fail(run: BackupRun, error: str) -> None:
    BackupRun.objects.filter(id=run.id, status__in=BackupRun.ACTIVE).update(
        status=BackupRun.Status.FAILED, finished_at=timezone.now(), error=error[:10000], parent=None)
    run.refresh_from_db()
    discard_partial(run)


def discard_partial(run: BackupRun) -> None:
    """Remove the temporary file or upload a dead or failed run left. An archive under its
    final name is never deleted here: it is complete (it was renamed only once whole), and
    after a database restore the snapshot shows its own run as running."""
    try:
        if run.temp_ref:
            destination_for(run.destination).discard_temp(run.temp_ref)
        BackupRun.objects.filter(id=run.id).update(temp_ref="")
    except (ApplicationError, DestinationError, OSError):
        logger.warning("could not clean up after run %s", run.id, exc_info=True)


def announce(run: BackupRun) -> None:
    ok = run.status == BackupRun.Status.COMPLETED
    name = run.config.name
    message = (f"Backup {run.id} of {name} ({run.kind}) completed: {run.file_count} files, {run.bytes_out} bytes."
               if ok else f"Backup {run.id} of {name} failed: {run.error[:500]}")
    title = f"Backup {name} {'completed' if ok else 'failed'}"
    level = "success" if ok else "error"
    reporter = Reporter(run, "")
    reporter.event(100, "done" if ok else "failed", message)
    recipients = {run.requested_by_id} if run.requested_by_id else set()
    if not ok:
        recipients |= set(get_user_model().objects.filter(is_staff=True, is_active=True).values_list("id", flat=True))
    for user in get_user_model().objects.filter(id__in=recipients):
        notify(user, title, message, level)


def backup_run_now(*, config: BackupConfig, user: AbstractBaseUser | AnonymousUser | None = None,
                   trigger: str = "command", kind: str | None = None, progress: Progress | None = None) -> BackupRun:
    """Create and perform a run in this process (the `backup run` command)."""
    run = create_run(config=config, user=user, trigger=trigger, kind=kind)
    done = backup_execute(run_id=run.id, kind=kind, progress=progress)
    assert done is not None  # this process created it, nobody else claims it
    return done


def backup_scheduled(*, config_id: int) -> BackupRun | None:
    """Beat's entry: a run of an enabled config, unless one is already active."""
    config = BackupConfig.objects.filter(id=config_id, enabled=True).first()
    if config is None:
        return None
    try:
        run = create_run(config=config, user=None, trigger=BackupRun.Trigger.SCHEDULE, kind=None)
    except ApplicationError as exc:
        logger.warning("scheduled backup of %s skipped: %s", config.name, exc.message)
        return None
    return backup_execute(run_id=run.id)
