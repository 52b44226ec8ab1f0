"""Verification: every archive a run needs, checked against manifests and checksums."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from backups import keys, selectors
from backups.engine.crypto import CryptoError
from backups.engine.destinations import DestinationError
from backups.engine.manifest import Manifest
from backups.engine.pipeline import verify_archive
from backups.models import BackupConfig, BackupRun
from backups.services.archives import archive_info, run_chain
from backups.services.common import Progress, Reporter, alert_staff, scratch_root, user_pk
from backups.storage import destination_for
from tecnocursos.core.exceptions import ApplicationError
from tecnocursos.core.outbox import outbox_enqueue


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
    reporter = Reporter(run, "Verifying", progress)
    try:
        manifest = selectors.manifest_of(run=run)
        chain = run_chain(run, manifest)
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
                report = verify_archive(raw, archive_info(dep), dep_manifest, ring=ring, spool_dir=scratch_root(),
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
        alert_staff(f"Backup {run.id} of {run.config.name} failed verification",
                     "\n".join(outcome.problems[:10]))
    return outcome


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
    if run.status != BackupRun.Status.COMPLETED:
        raise ApplicationError(f"Run {run.id} is {run.status}; only completed runs can be verified.",
                               status_code=409)
    user_id = user_pk(user)
    with transaction.atomic():
        outbox_enqueue("backups.tasks.verify_backup", run.id, user_id)
    return run
