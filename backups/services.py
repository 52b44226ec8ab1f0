"""Writes on backups: request, run, verify, restore, prune, rotate keys, recover from crashes."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from backups import hooks, keys, selectors
from backups.engine import database as dbengine
from backups.engine.archive import Member, suffix
from backups.engine.crypto import CryptoError, DecryptingReader, EncryptingWriter, Key
from backups.engine.destinations import Destination, DestinationError
from backups.engine.manifest import Manifest
from backups.engine.pipeline import ArchiveInfo, BackupSpec, read_archive, verify_archive, write_backup
from backups.engine.restore import RestoreReport, restore_tree
from backups.engine.retention import Decision, Snapshot, forget
from backups.engine.scan import Source
from backups.engine.streams import COPY_BLOCK, HashingReader, HashingWriter
from backups.models import BackupConfig, BackupManifest, BackupRun
from backups.signals import backup_finished, backup_started
from backups.storage import destination_for
from realtime.services import notification_send, progress_report
from tecnocursos.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
HEARTBEAT_SECONDS = 5.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Configurations ------------------------------------------------------------------


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


# --- Requesting and claiming runs ----------------------------------------------------


def _choose_kind(config: BackupConfig, requested: str | None) -> tuple[str, BackupRun | None]:
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


def _user_id(user: AbstractBaseUser | AnonymousUser | None) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


def _create_run(*, config: BackupConfig, user: AbstractBaseUser | AnonymousUser | None, trigger: str,
                kind: str | None) -> BackupRun:
    predicted, _ = _choose_kind(config, kind)
    try:
        with transaction.atomic():
            return BackupRun.objects.create(
                config=config, kind=predicted, trigger=trigger, requested_by_id=_user_id(user),
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
    """Create a queued run and queue its task once committed; 409 if the config has one active."""
    from backups.tasks import run_backup

    with transaction.atomic():
        run = _create_run(config=config, user=user, trigger=trigger, kind=kind)
        run_id = run.id
        transaction.on_commit(lambda: run_backup.delay(run_id, kind))
    return run


def _claim(run_id: int) -> BackupRun | None:
    """queued -> running; exactly one process wins, the others get None."""
    now = timezone.now()
    claimed = BackupRun.objects.filter(id=run_id, status=BackupRun.Status.QUEUED).update(
        status=BackupRun.Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker_id()
    )
    return BackupRun.objects.select_related("config", "requested_by").get(id=run_id) if claimed == 1 else None


# --- Progress ----------------------------------------------------------------------------


class _Reporter:
    """One `progress` event per percent to the requester, a heartbeat every few seconds."""

    def __init__(self, run: BackupRun, verb: str, extra: Progress | None = None):
        self.run = run
        self.verb = verb
        self.extra = extra
        self.last_pct = -1
        self.last_beat = time.monotonic()

    def event(self, pct: int, status: str, message: str) -> None:
        self.last_pct = pct
        if self.run.requested_by_id:
            progress_report(user_id=self.run.requested_by_id, task_id=str(self.run.task_id), progress=pct,
                            status=status, message=message)

    def __call__(self, done: int, total: int) -> None:
        if self.extra is not None:
            self.extra(done, total)
        pct = min(99, done * 100 // total) if total else 0
        now = time.monotonic()
        if now - self.last_beat >= HEARTBEAT_SECONDS:
            self.last_beat = now
            BackupRun.objects.filter(id=self.run.id).update(heartbeat_at=timezone.now())
        if pct != self.last_pct:
            self.event(pct, "running", f"{self.verb} {self.run.config.name}: {done} of {total} bytes")


# --- Running a backup ----------------------------------------------------------------


def _db_params() -> dbengine.PgParams:
    conf = connection.settings_dict
    return dbengine.PgParams(name=conf["NAME"], host=str(conf.get("HOST") or ""), port=str(conf.get("PORT") or ""),
                             user=str(conf.get("USER") or ""), password=str(conf.get("PASSWORD") or ""))


def current_db_engine() -> str:
    vendor = connection.vendor
    if vendor == "sqlite":
        return dbengine.SQLITE
    if vendor == "postgresql":
        return dbengine.POSTGRESQL
    raise ApplicationError(f"Database engine {vendor!r} cannot be backed up (SQLite and PostgreSQL can).")


def _dump_database(scratch: Path) -> tuple[Path, str]:
    engine = current_db_engine()
    target = scratch / dbengine.DUMP_NAMES[engine]
    if engine == dbengine.SQLITE:
        connection.ensure_connection()
        dbengine.sqlite_copy(connection.connection, target)
    else:
        dbengine.pg_dump(_db_params(), target, binary=settings.BACKUP_PG_DUMP)
    return target, engine


def _sources(config: BackupConfig, scratch: Path) -> tuple[list[Source], str]:
    sources: list[Source] = []
    engine = ""
    if config.include_database:
        dump, engine = _dump_database(scratch)
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


def _scratch_root() -> Path:
    root = Path(settings.BACKUP_ROOT)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    scratch = root / ".scratch"
    scratch.mkdir(exist_ok=True, mode=0o700)
    return scratch


def _write(run: BackupRun, destination: Destination, progress: Progress) -> None:
    config = run.config
    key = _encryption_key(run)
    base = selectors.manifest_of(run=run.parent) if run.parent_id else None
    stamp = (run.started_at or timezone.now()).strftime("%Y%m%dT%H%M%SZ")
    name = f"{config.name}/{stamp}-{run.id}-{run.kind}{suffix(run.archive_format, key is not None)}"
    with tempfile.TemporaryDirectory(prefix=f"run-{run.id}-", dir=_scratch_root()) as scratch:
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
            BackupManifest.objects.create(run=run, data=result.manifest.to_bytes(),
                                          entries=len(result.manifest.entries))
            BackupRun.objects.filter(id=run.id).update(
                status=BackupRun.Status.COMPLETED, finished_at=timezone.now(), temp_ref="",
                bytes_in=result.bytes_in, bytes_stored=result.bytes_stored, bytes_out=result.bytes_out,
                file_count=sum(1 for _ in result.manifest.files()), files_stored=result.files_stored,
                files_deleted=len(result.manifest.deleted), checksum=result.sha256,
                error="" if not result.skipped else "Skipped: " + "; ".join(result.skipped[:50]),
            )
    except BaseException:
        destination.delete(name)  # no completed record: no archive under a final name either
        raise


def backup_execute(*, run_id: int, kind: str | None = None, progress: Progress | None = None) -> BackupRun | None:
    """Claim a queued run and perform it; returns the finished run, or None if another
    process had claimed it. Failures are recorded on the run, never raised."""
    run = _claim(run_id)
    if run is None:
        return None
    reporter = _Reporter(run, "Backing up", progress)
    reporter.event(0, "running", f"Backup of {run.config.name} started")
    try:
        hooks.run_pre_hooks(run.config.pre_hooks, run)
        with transaction.atomic():
            run.kind, run.parent = _choose_kind(run.config, kind if kind else None)
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
    _announce(run)
    return run


def _fail(run: BackupRun, error: str) -> None:
    BackupRun.objects.filter(id=run.id, status__in=BackupRun.ACTIVE).update(
        status=BackupRun.Status.FAILED, finished_at=timezone.now(), error=error[:10000], parent=None)
    run.refresh_from_db()
    _discard_partial(run)


def _discard_partial(run: BackupRun) -> None:
    """Remove what a dead or failed run may have left: its temporary upload, and an archive
    that reached its final name without the run being completed."""
    try:
        destination = destination_for(run.destination)
        if run.temp_ref:
            destination.discard_temp(run.temp_ref)
        if run.archive_name and run.status == BackupRun.Status.FAILED:
            destination.delete(run.archive_name)
        BackupRun.objects.filter(id=run.id).update(temp_ref="")
    except (ApplicationError, DestinationError, OSError):
        logger.warning("could not clean up after run %s", run.id, exc_info=True)


def _announce(run: BackupRun) -> None:
    ok = run.status == BackupRun.Status.COMPLETED
    name = run.config.name
    message = (f"Backup {run.id} of {name} ({run.kind}) completed: {run.file_count} files, {run.bytes_out} bytes."
               if ok else f"Backup {run.id} of {name} failed: {run.error[:500]}")
    title = f"Backup {name} {'completed' if ok else 'failed'}"
    level = "success" if ok else "error"
    reporter = _Reporter(run, "")
    reporter.event(100, "done" if ok else "failed", message)
    recipients = {run.requested_by_id} if run.requested_by_id else set()
    if not ok:
        recipients |= set(get_user_model().objects.filter(is_staff=True, is_active=True).values_list("id", flat=True))
    for user in get_user_model().objects.filter(id__in=recipients):
        _notify(user, title, message, level)


def _notify(user: Any, title: str, message: str, level: str) -> None:
    try:
        notification_send(user=user, title=title, message=message, level=level)
    except ApplicationError:
        notification_send(user=user, title=title, message=message)


def backup_run_now(*, config: BackupConfig, user: AbstractBaseUser | AnonymousUser | None = None,
                   trigger: str = "command", kind: str | None = None, progress: Progress | None = None) -> BackupRun:
    """Create and perform a run in this process (the `backup run` command)."""
    run = _create_run(config=config, user=user, trigger=trigger, kind=kind)
    done = backup_execute(run_id=run.id, kind=kind, progress=progress)
    assert done is not None  # this process created it, nobody else claims it
    return done


def backup_scheduled(*, config_id: int) -> BackupRun | None:
    """Beat's entry: a run of an enabled config, unless one is already active."""
    config = BackupConfig.objects.filter(id=config_id, enabled=True).first()
    if config is None:
        return None
    try:
        run = _create_run(config=config, user=None, trigger=BackupRun.Trigger.SCHEDULE, kind=None)
    except ApplicationError as exc:
        logger.warning("scheduled backup of %s skipped: %s", config.name, exc.message)
        return None
    return backup_execute(run_id=run.id)


# --- Crash recovery ------------------------------------------------------------------


def _pid_dead(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def backup_fail_stale() -> list[int]:
    """Fail runs whose process died (same host, pid gone), whose heartbeat stopped, or that
    waited in the queue too long; remove their temporary data. Runs when workers start and
    periodically."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.BACKUP_STALE_SECONDS)
    queued_before = now - timedelta(seconds=settings.BACKUP_QUEUED_TIMEOUT_SECONDS)
    failed: list[int] = []
    for run in BackupRun.objects.filter(status__in=BackupRun.ACTIVE).select_related("config"):
        if run.status == BackupRun.Status.RUNNING and (_pid_dead(run.worker) or (
                run.heartbeat_at is not None and run.heartbeat_at < stale_before)):
            reason = f"The process running it ({run.worker or 'unknown'}) died before it finished."
        elif run.status == BackupRun.Status.QUEUED and run.created_at < queued_before:
            reason = "No worker picked it up in time."
        else:
            continue
        updated = BackupRun.objects.filter(id=run.id, status=run.status, worker=run.worker).update(
            status=BackupRun.Status.FAILED, finished_at=now, error=reason, parent=None)
        if updated:
            run.refresh_from_db()
            _discard_partial(run)
            failed.append(run.id)
            _announce(run)
    _sweep_orphan_temps()
    return failed


def _sweep_orphan_temps() -> None:
    """Temporary files / uploads no running run owns, older than the stale limit."""
    owned = set(BackupRun.objects.filter(status=BackupRun.Status.RUNNING).values_list("temp_ref", flat=True))
    kinds = ["local"] + (["s3"] if settings.BACKUP_S3_BUCKET else [])
    for kind in kinds:
        try:
            destination = destination_for(kind)
            for ref in list(destination.stale_temps(settings.BACKUP_STALE_SECONDS)):
                if ref not in owned:
                    destination.discard_temp(ref)
        except (ApplicationError, DestinationError, OSError):
            logger.warning("temporary data sweep of %s failed", kind, exc_info=True)


# --- Reading archives ----------------------------------------------------------------


def _info(run: BackupRun) -> ArchiveInfo:
    return ArchiveInfo(run_id=run.id, archive_format=run.archive_format, encrypted=run.encrypted,
                       sha256=run.checksum, size=run.bytes_out)


@contextmanager
def _open_members(run: BackupRun) -> Iterator[Iterator[Member]]:
    ring = keys.key_ring() if run.encrypted else None
    with destination_for(run.destination).open(run.archive_name) as raw, \
            read_archive(raw, _info(run), ring=ring, spool_dir=_scratch_root()) as members:
        yield members


def _chain(run: BackupRun, manifest: Manifest) -> dict[int, BackupRun]:
    """The run and every run whose archive holds bytes of its tree, all completed."""
    needed = manifest.depends_on() | {run.id}
    runs = {r.id: r for r in BackupRun.objects.filter(id__in=needed, status=BackupRun.Status.COMPLETED)}
    missing = sorted(needed - set(runs))
    if missing:
        raise ApplicationError(f"Run {run.id} needs the archives of runs {missing}, which are gone or incomplete.",
                               status_code=409)
    return runs


# --- Verify ----------------------------------------------------------------------------


@dataclass
class VerifyOutcome:
    run: BackupRun
    problems: list[str] = field(default_factory=list)
    archives: int = 0
    bytes_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_references(manifest: Manifest, dep: BackupRun, dep_manifest: Manifest) -> list[str]:
    stored = dep_manifest.stored_here()
    problems = []
    for entry in manifest.files():
        if entry.stored_in == dep.id:
            held = stored.get(entry.member)
            if held is None or held.sha256 != entry.sha256 or held.size != entry.size:
                problems.append(f"{entry.path}: run {dep.id} does not hold the content the manifest names")
    return problems[:20]


def backup_verify(*, run: BackupRun, progress: Progress | None = None) -> VerifyOutcome:
    """Decrypt, decompress and check every archive the run needs against the manifests and
    recorded checksums. The outcome is recorded on the run; a failure alerts staff."""
    if run.status != BackupRun.Status.COMPLETED:
        raise ApplicationError(f"Run {run.id} is {run.status}; only completed runs can be verified.",
                               status_code=409)
    outcome = VerifyOutcome(run=run)
    reporter = _Reporter(run, "Verifying", progress)
    try:
        manifest = selectors.manifest_of(run=run)
        chain = _chain(run, manifest)
        total = sum(r.bytes_stored for r in chain.values()) or 1
        done = 0

        def on_bytes(size: int) -> None:
            nonlocal done
            done += size
            reporter(done, total)

        for dep_id in sorted(chain):
            dep = chain[dep_id]
            dep_manifest = manifest if dep.id == run.id else selectors.manifest_of(run=dep)
            outcome.problems += _check_references(manifest, dep, dep_manifest)
            ring = keys.key_ring() if dep.encrypted else None
            with destination_for(dep.destination).open(dep.archive_name) as raw:
                report = verify_archive(raw, _info(dep), dep_manifest, ring=ring, spool_dir=_scratch_root(),
                                        on_bytes=on_bytes)
            outcome.archives += 1
            outcome.bytes_checked += report.bytes_checked
            outcome.problems += [f"run {dep.id}: {p}" for p in report.problems]
    except (ApplicationError, DestinationError, CryptoError, OSError) as exc:
        outcome.problems.append(exc.message if isinstance(exc, ApplicationError) else str(exc))
    BackupRun.objects.filter(id=run.id).update(verified_at=timezone.now(), verify_ok=outcome.ok,
                                               verify_error="\n".join(outcome.problems)[:10000])
    run.refresh_from_db()
    reporter.event(100, "done" if outcome.ok else "failed",
                   f"Run {run.id}: verified" if outcome.ok else f"Run {run.id}: {outcome.problems[0]}")
    if not outcome.ok:
        _alert_staff(f"Backup {run.id} of {run.config.name} failed verification",
                     "\n".join(outcome.problems[:10]))
    return outcome


def _alert_staff(title: str, message: str) -> None:
    for user in get_user_model().objects.filter(is_staff=True, is_active=True):
        _notify(user, title, message[:2000], "error")


def backup_verify_latest() -> dict[str, bool]:
    """The periodic check: the newest completed run of every configuration."""
    results = {}
    for config in BackupConfig.objects.all():
        run = selectors.run_latest_completed(config=config)
        if run is not None:
            results[config.name] = backup_verify(run=run).ok
    return results


def backup_verify_request(*, run: BackupRun, user: AbstractBaseUser | AnonymousUser | None) -> BackupRun:
    """Queue a verification (API, admin); progress goes to `user`."""
    from backups.tasks import verify_backup

    if run.status != BackupRun.Status.COMPLETED:
        raise ApplicationError(f"Run {run.id} is {run.status}; only completed runs can be verified.",
                               status_code=409)
    user_id = _user_id(user)
    transaction.on_commit(lambda: verify_backup.delay(run.id, user_id))
    return run


# --- Restore ---------------------------------------------------------------------------


@dataclass
class RestoreOutcome:
    run: BackupRun
    target: Path | None
    report: RestoreReport
    database_loaded: bool = False


def _check_target(target: Path) -> None:
    if not target.is_absolute():
        raise ApplicationError(f"The restore target must be an absolute path, not {str(target)!r}.")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ApplicationError(f"The restore target {target} exists and is not a directory.")
    if target.exists() and any(target.iterdir()):
        raise ApplicationError(f"The restore target {target} is not empty; restore into a new directory.")


def _move_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    for child in staging.iterdir():
        os.rename(child, target / child.name)
    staging.rmdir()


def _database_entry(manifest: Manifest) -> str:
    engine = manifest.db_engine
    if not engine:
        raise ApplicationError("This run holds no database.")
    current = current_db_engine()
    if engine != current:
        raise ApplicationError(
            f"This run holds a {engine} database and the current database is {current}: restoring across "
            "engines is refused (migrate with dumpdata/loaddata instead).", status_code=409)
    return f"database/{dbengine.DUMP_NAMES[engine]}"


def _load_database(dump: Path, engine: str) -> None:
    if dbengine.dump_engine(dump) != engine:
        raise ApplicationError(f"{dump.name} is not a {engine} dump.")
    if engine == dbengine.SQLITE:
        connection.ensure_connection()
        dbengine.sqlite_load_into(dump, connection.connection)
    else:
        connection.close()  # pg_restore drops tables this connection may hold locks on
        dbengine.pg_restore(_db_params(), dump, binary=settings.BACKUP_PG_RESTORE)


def backup_restore(*, run: BackupRun, target: Path | None, database: bool = False,
                   progress: Progress | None = None) -> RestoreOutcome:
    """Rebuild the run's tree (following its chain) into `target`, a new or empty directory,
    through a staging directory beside it; with `database`, also load the database dump."""
    if run.status != BackupRun.Status.COMPLETED:
        raise ApplicationError(f"Run {run.id} is {run.status}; only completed runs can be restored.",
                               status_code=409)
    if target is None and not database:
        raise ApplicationError("Give a target directory, or ask for the database.")
    manifest = selectors.manifest_of(run=run)
    dump_path = _database_entry(manifest) if database else ""
    if target is not None:
        _check_target(target)
    runs = _chain(run, manifest)
    parent_dir = target.parent if target is not None else _scratch_root()
    parent_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".restore-{run.id}-", dir=parent_dir))
    reporter = _Reporter(run, "Restoring", progress)
    try:
        report = restore_tree(manifest, staging, lambda run_id: _open_members(runs[run_id]),
                              prefix="database" if target is None else "", progress=reporter)
        if database:
            _load_database(staging.joinpath(*dump_path.split("/")), manifest.db_engine)
        if target is not None:
            _move_into_place(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    reporter.event(100, "done", f"Run {run.id} restored" + (f" into {target}" if target else ""))
    return RestoreOutcome(run=run, target=target, report=report, database_loaded=database)


def backup_restore_request(*, run: BackupRun, user: AbstractBaseUser | AnonymousUser | None) -> Path:
    """The admin's restore: into a new directory under BACKUP_RESTORE_ROOT, in the background."""
    from backups.tasks import restore_backup

    if run.status != BackupRun.Status.COMPLETED:
        raise ApplicationError(f"Run {run.id} is {run.status}; only completed runs can be restored.")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    target = Path(settings.BACKUP_RESTORE_ROOT) / f"run-{run.id}-{stamp}-{secrets.token_hex(2)}"
    user_id = _user_id(user)
    transaction.on_commit(lambda: restore_backup.delay(run.id, str(target), user_id))
    return target


def backup_restore_to(*, run_id: int, target: str, user_id: int | None) -> None:
    """Task body of the admin's restore: notify the operator of the outcome."""
    run = BackupRun.objects.select_related("config").get(id=run_id)
    user = get_user_model().objects.filter(id=user_id).first() if user_id else None
    try:
        outcome = backup_restore(run=run, target=Path(target))
        title, level = f"Run {run.id} restored", "success"
        message = f"{outcome.report.files} files restored into {target}."
    except Exception as exc:
        logger.exception("restore of run %s failed", run_id)
        title, level, message = f"Restore of run {run.id} failed", "error", f"{type(exc).__name__}: {exc}"
    if user is not None:
        _notify(user, title, message, level)


# --- Retention -------------------------------------------------------------------------


@dataclass
class PruneOutcome:
    config: BackupConfig
    decision: Decision
    removed: list[BackupRun] = field(default_factory=list)
    kept: list[BackupRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _prune_decision(config: BackupConfig) -> tuple[Decision, dict[int, BackupRun]]:
    runs = {r.id: r for r in BackupRun.objects.filter(config=config, status=BackupRun.Status.COMPLETED)}
    snapshots = [Snapshot(r.id, r.finished_at or r.created_at, r.parent_id) for r in runs.values()]
    decision = forget(snapshots, config.retention(), tz=timezone.get_current_timezone())
    # Parents of runs in progress stay too, whatever the policy says.
    active = BackupRun.objects.filter(config=config, status__in=BackupRun.ACTIVE, parent__isnull=False)
    for first in active.values_list("parent_id", flat=True):
        parent_id: int | None = first
        while parent_id is not None and parent_id in runs:
            decision.keep.setdefault(parent_id, []).append("needed by a run in progress")
            parent_id = runs[parent_id].parent_id
    decision.remove = [i for i in decision.remove if i not in decision.keep]
    return decision, runs


def backup_prune(*, config: BackupConfig | None = None, dry_run: bool = False) -> list[PruneOutcome]:
    """Apply the retention policy of one or every configuration. Removal goes newest first, so
    a run is deleted only after every run that needs it."""
    outcomes = []
    for cfg in [config] if config is not None else list(BackupConfig.objects.all()):
        decision, runs = _prune_decision(cfg)
        outcome = PruneOutcome(config=cfg, decision=decision,
                               kept=[runs[i] for i in sorted(decision.keep, reverse=True) if i in runs])
        for run_id in decision.remove:
            run = runs[run_id]
            if not dry_run:
                try:
                    _delete_run(run)
                except (DestinationError, ProtectedError, OSError, ApplicationError) as exc:
                    outcome.errors.append(f"run {run.id}: {exc}")
                    break  # its parents may be needed by it: stop here
            outcome.removed.append(run)
        if not dry_run:
            _prune_failed(cfg)
        outcomes.append(outcome)
    return outcomes


def _delete_run(run: BackupRun) -> None:
    """The archive first, then the record: a failure leaves at worst an orphan file, never a
    record of a run whose archive is gone. A run another run still needs is refused."""
    if BackupRun.objects.filter(parent_id=run.id).exists():
        raise ApplicationError(f"run {run.id} is still needed by a later run")
    if run.archive_name:
        destination_for(run.destination).delete(run.archive_name)
    BackupRun.objects.filter(id=run.id).delete()


def _prune_failed(config: BackupConfig) -> None:
    cutoff = timezone.now() - timedelta(days=settings.BACKUP_FAILED_RUNS_KEEP_DAYS)
    BackupRun.objects.filter(config=config, status=BackupRun.Status.FAILED, created_at__lt=cutoff).delete()


# --- Keys ----------------------------------------------------------------------------------


def key_rotate(*, reencrypt: bool = False, progress: Callable[[BackupRun], None] | None = None
               ) -> tuple[Key, list[int]]:
    """Add a new current key; with `reencrypt`, rewrite every encrypted archive under it."""
    key = keys.key_add()
    done: list[int] = []
    if reencrypt:
        for run in BackupRun.objects.filter(status=BackupRun.Status.COMPLETED, encrypted=True) \
                .exclude(key_id=key.id).select_related("config"):
            if progress is not None:
                progress(run)
            run_reencrypt(run=run, key=key)
            done.append(run.id)
    return key, done


def run_reencrypt(*, run: BackupRun, key: Key) -> BackupRun:
    """Decrypt the archive with its key and encrypt it with `key` under a new name; the run
    points at the new archive only once it is complete, then the old one is deleted."""
    destination = destination_for(run.destination)
    ring = keys.key_ring()
    stem = run.archive_name.removesuffix(suffix(run.archive_format, True))
    name = f"{stem.split('.rk-')[0]}.rk-{key.id}{suffix(run.archive_format, True)}"
    writer = destination.writer(name)
    try:
        with destination.open(run.archive_name) as raw:
            hashed_in = HashingReader(raw)
            stored = HashingWriter(writer)
            plain = DecryptingReader(hashed_in, ring)
            with EncryptingWriter(stored, key, chunk_size=settings.BACKUP_CHUNK_BYTES) as encrypter:
                while block := plain.read(COPY_BLOCK):
                    encrypter.write(block)
            hashed_in.drain()
        if hashed_in.hexdigest() != run.checksum:
            raise CryptoError(f"archive of run {run.id} does not match its recorded SHA-256; not re-encrypting")
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    old = run.archive_name
    BackupRun.objects.filter(id=run.id).update(archive_name=name, checksum=stored.hexdigest(),
                                               bytes_out=stored.count, key_id=key.id)
    destination.delete(old)
    run.refresh_from_db()
    return run
