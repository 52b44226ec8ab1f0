"""`manage.py backup run|list|verify|restore|prune|rotate-key` (the CONTRACT's names).

Each exits 0 on success and non-zero with a one-line message on failure; long work shows a
progress bar when stderr is a terminal.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import selectors, services
from backups.engine.crypto import CryptoError
from backups.models import BackupRun
from tecnocursos.core.exceptions import ApplicationError

KINDS = ("full", "incremental", "differential")


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


class Command(BaseCommand):
    help = "Backups: run, list, verify, restore, prune, rotate-key."

    def add_arguments(self, parser: CommandParser) -> None:
        common = CommandParser(add_help=False)
        common.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
        sub = parser.add_subparsers(dest="action", required=True, metavar="{run,list,verify,restore,prune,rotate-key}")
        add = functools.partial(sub.add_parser, parents=[common])
        run = add("run", help="run a backup of CONFIG now and print its id")
        run.add_argument("config")
        run.add_argument("--kind", choices=KINDS, help="override the configuration's policy")
        listing = add("list", help="runs, newest first")
        listing.add_argument("config", nargs="?")
        listing.add_argument("--limit", type=int, default=50)
        verify = add("verify", help="decrypt and check every file of a run")
        verify.add_argument("run_id", type=int)
        restore = add("restore", help="rebuild a run's files into a new directory")
        restore.add_argument("run_id", type=int)
        restore.add_argument("--target", help="a new or empty directory")
        restore.add_argument("--database", action="store_true", help="also load the run's database dump")
        restore.add_argument("--yes", action="store_true", help="confirm replacing the current database")
        prune = add("prune", help="apply the retention policies")
        prune.add_argument("config", nargs="?")
        prune.add_argument("--dry-run", action="store_true")
        rotate = add("rotate-key", help="make a new encryption key the current one")
        rotate.add_argument("--reencrypt", action="store_true", help="re-encrypt existing runs with the new key")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        self.show_progress = not options.get("no_progress") and sys.stderr.isatty()
        handler = getattr(self, f"do_{action.replace('-', '_')}")
        try:
            handler(**options)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except (CryptoError, OSError) as exc:
            raise CommandError(str(exc)) from exc

    def do_run(self, *, config: str, kind: str | None, **options: Any) -> None:
        cfg = selectors.config_get(name=config)
        with progress_bar(self.show_progress, f"backup {cfg.name}") as bar:
            run = services.backup_run_now(config=cfg, kind=kind, progress=bar)
        if run.status != BackupRun.Status.COMPLETED:
            raise CommandError(f"run {run.id} failed: {run.error.splitlines()[0] if run.error else 'unknown error'}")
        self.stdout.write(str(run.id))
        self.stderr.write(f"{run.kind} backup of {cfg.name}: {run.file_count} files, {_size(run.bytes_in)} in, "
                          f"{_size(run.bytes_out)} stored, sha256 {run.checksum}")

    def do_list(self, *, config: str | None, limit: int, **options: Any) -> None:
        if config:
            selectors.config_get(name=config)
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        self.stdout.write(f"{'id':>6}  {'config':<16} {'kind':<12} {'status':<10} {'size':>10}  checksum")
        for run in selectors.run_list(config=config)[:limit]:
            self.stdout.write(f"{run.id:>6}  {run.config.name:<16} {run.kind:<12} {run.status:<10} "
                              f"{_size(run.bytes_out):>10}  {run.checksum or '-'}")

    def do_verify(self, *, run_id: int, **options: Any) -> None:
        run = selectors.run_get(run_id=run_id)
        with progress_bar(self.show_progress, f"verify {run.id}") as bar:
            outcome = services.backup_verify(run=run, progress=bar)
        if not outcome.ok:
            for problem in outcome.problems[1:]:
                self.stderr.write(problem)
            raise CommandError(f"run {run.id} failed verification: {outcome.problems[0]}")
        self.stdout.write(f"run {run.id}: OK ({outcome.archives} archive(s), {_size(outcome.bytes_checked)} checked)")

    def do_restore(self, *, run_id: int, target: str | None, database: bool, yes: bool, **options: Any) -> None:
        if database and not yes:
            raise CommandError("restoring the database replaces the current one: add --yes to confirm")
        if not database and not target:
            raise CommandError("give --target DIR (and --database --yes to load the database too)")
        run = selectors.run_get(run_id=run_id)
        path = Path(target).expanduser().absolute() if target else None
        with progress_bar(self.show_progress, f"restore {run.id}") as bar:
            outcome = services.backup_restore(run=run, target=path, database=database, progress=bar)
        if path is not None:
            self.stdout.write(f"run {run.id}: {outcome.report.files} files, {outcome.report.dirs} directories, "
                              f"{outcome.report.symlinks} links restored into {path}")
        if outcome.database_loaded:
            self.stdout.write(f"run {run.id}: database restored")

    def do_prune(self, *, config: str | None, dry_run: bool, **options: Any) -> None:
        cfg = selectors.config_get(name=config) if config else None
        outcomes = services.backup_prune(config=cfg, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        failed = False
        for outcome in outcomes:
            removed = ", ".join(str(r.id) for r in outcome.removed) or "nothing"
            self.stdout.write(f"{outcome.config.name}: keep {len(outcome.kept)}, {verb} {removed}")
            for run in outcome.kept:
                self.stdout.write(f"  keep {run.id}: {'; '.join(outcome.decision.keep.get(run.id, []))}")
            for error in outcome.errors:
                self.stderr.write(f"  error: {error}")
                failed = True
        if failed:
            raise CommandError("some runs could not be removed (see above)")

    def do_rotate_key(self, *, reencrypt: bool, **options: Any) -> None:
        def announce(run: BackupRun) -> None:
            self.stderr.write(f"re-encrypting run {run.id} ({_size(run.bytes_out)})")

        key, runs = services.key_rotate(reencrypt=reencrypt, progress=announce)
        self.stdout.write(f"new current key: {key.id}")
        if reencrypt:
            self.stdout.write(f"re-encrypted runs: {', '.join(map(str, runs)) or 'none'}")
