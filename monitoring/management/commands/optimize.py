"""`manage.py optimize [--dry-run] [--action NAME ...]`: run the optimizer's enabled actions (or
the named ones) now; each action taken or previewed is printed and recorded in the admin."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.optimizer import services
from monitoring.optimizer.models import OptimizationAction
from tecnocursos.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Run the optimizer now: the enabled actions, or those named (any of them as a dry run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
        parser.add_argument("--action", action="append", choices=OptimizationAction.Action.values,
                            help="only this action (repeatable); default: the enabled ones")

    def handle(self, *args: Any, dry_run: bool, action: list[str] | None, **options: Any) -> None:
        if action is None and not services.enabled_actions() and not dry_run:
            raise CommandError("No optimizer action is enabled (MONITORING_OPTIMIZER_ACTIONS); "
                               "use --dry-run to preview them.")
        chosen = action if action is not None else (services.enabled_actions() or
                                                    list(OptimizationAction.Action.values))
        try:
            rows = services.optimizations_run(actions=chosen, dry_run=dry_run, trigger="command")
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        failed = [row for row in rows if row.status == OptimizationAction.Status.FAILED]
        self.stdout.write(json.dumps([
            {"action": row.action, "status": row.status, "target": row.target, "reason": row.reason,
             "items": row.items, "bytes_freed": row.bytes_freed, "error": row.error} for row in rows], indent=2))
        if failed:
            raise CommandError(f"{len(failed)} action(s) failed: {failed[0].target}: {failed[0].error}"[:300])
