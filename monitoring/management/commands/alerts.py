"""`manage.py alerts evaluate|active|rules|bottlenecks` for operators and scripts (JSON out)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.alerting import selectors, services
from monitoring.insights import services as insights
from tecnocursos.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Alerts: evaluate the rules now, list active alerts or rules, detect bottlenecks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("evaluate", help="evaluate every enabled rule now; outcome counts")
        sub.add_parser("active", help="pending and firing alerts")
        sub.add_parser("rules", help="the rules with their last evaluation and error")
        sub.add_parser("bottlenecks", help="detect bottlenecks now; the open findings")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            result = getattr(self, f"do_{action}")()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except Exception as exc:  # the database or Redis down: one line, non-zero exit
            raise CommandError(f"{action} failed: {type(exc).__name__}: {exc}") from exc
        self.stdout.write(json.dumps(result, default=str, indent=2))

    def do_evaluate(self) -> dict[str, int]:
        return services.rules_evaluate()

    def do_active(self) -> list[dict[str, Any]]:
        return [{"id": a.id, "rule": a.rule.name, "state": a.state, "severity": a.severity, "labels": a.labels,
                 "value": a.value, "threshold": a.threshold, "started_at": a.started_at, "message": a.message}
                for a in selectors.alerts_active()]

    def do_rules(self) -> list[dict[str, Any]]:
        return [{"id": r.id, "name": r.name, "enabled": r.enabled, "kind": r.kind, "metric": r.metric,
                 "active_alerts": getattr(r, "active_alerts", 0), "last_evaluated_at": r.last_evaluated_at,
                 "last_error": r.last_error} for r in selectors.rules_list()]

    def do_bottlenecks(self) -> list[dict[str, Any]]:
        return [{"kind": f.kind, "subject": f.subject, "severity": f.severity, "title": f.title,
                 "evidence": f.evidence, "recommendation": f.recommendation} for f in insights.findings_detect()]
