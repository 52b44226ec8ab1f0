"""`manage.py monitoring status|collect|rollup|retention|pause|resume` for operators and scripts."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring import selectors, services
from tecnocursos.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Monitoring: show the state, take a sample, roll up, apply retention, pause or resume collection."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="collection switch, latest sample, workers with a heartbeat")
        sub.add_parser("collect", help="take one system sample now (even while paused)")
        sub.add_parser("rollup", help="roll up closed minutes now")
        sub.add_parser("retention", help="delete what is older than each tier's retention")
        sub.add_parser("pause", help="pause all collection in every process")
        sub.add_parser("resume", help="resume collection in every process")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            result = getattr(self, f"do_{action}")()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except Exception as exc:  # Redis or the database down: one line, non-zero exit
            raise CommandError(f"{action} failed: {type(exc).__name__}: {exc}") from exc
        self.stdout.write(json.dumps(result, default=str, indent=2))

    def do_status(self) -> dict[str, Any]:
        state = selectors.collection_state()
        try:
            latest = selectors.snapshot_latest()
            sample: dict[str, Any] | None = {
                "host": latest.host, "timestamp": latest.timestamp, "age_seconds": round(
                    selectors.snapshot_age_seconds(latest), 1), "cpu_percent": latest.cpu_percent,
                "memory_percent": latest.memory_percent, "disk_percent": latest.disk_percent}
        except ApplicationError:
            sample = None
        return {**state, "latest_sample": sample, "workers": sorted(selectors.celery_workers())}

    def do_collect(self) -> dict[str, Any]:
        snapshot = services.snapshot_collect(force=True)
        if snapshot is None:
            raise CommandError("no sample taken")
        return {"id": snapshot.id, "host": snapshot.host, "timestamp": snapshot.timestamp,
                "cpu_percent": snapshot.cpu_percent, "collection_cpu_seconds": snapshot.collection_cpu_seconds}

    def do_rollup(self) -> dict[str, int]:
        return services.rollups_run()

    def do_retention(self) -> dict[str, int]:
        return services.retention_enforce()

    def do_pause(self) -> dict[str, Any]:
        return services.collection_set(collecting=False, by="manage.py")

    def do_resume(self) -> dict[str, Any]:
        return services.collection_set(collecting=True, by="manage.py")
