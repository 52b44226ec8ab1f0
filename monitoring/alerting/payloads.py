"""Webhook bodies for an alert notification (no Django): Slack, Microsoft Teams and the
generic Alertmanager shape, so existing receivers (Slack apps, Teams workflows, anything that
takes Alertmanager's webhooks) work unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

COLORS = {"critical": "#d00000", "warning": "#f2a900", "info": "#439fe0", "resolved": "#2eb67d"}
TEAMS_COLORS = {"critical": "attention", "warning": "warning", "info": "accent", "resolved": "good"}


@dataclass(frozen=True)
class AlertMessage:
    """One notification: an alert that fires, fires again (repeat) or is resolved."""

    notice: str  # firing, repeat, resolved
    rule: str
    severity: str
    summary: str
    fingerprint: str
    started_at: float
    value: float | None = None
    threshold: float | None = None
    ended_at: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    @property
    def status(self) -> str:
        return "resolved" if self.notice == "resolved" else "firing"

    @property
    def title(self) -> str:
        prefix = "RESOLVED" if self.status == "resolved" else self.severity.upper()
        again = " (still firing)" if self.notice == "repeat" else ""
        return f"[{prefix}] {self.rule}{again}"

    def facts(self) -> list[tuple[str, str]]:
        facts = [("Severity", self.severity), ("Started", _iso(self.started_at))]
        if self.value is not None:
            facts.append(("Value", f"{self.value:g}"))
        if self.threshold is not None:
            facts.append(("Threshold", f"{self.threshold:g}"))
        if self.ended_at is not None:
            facts.append(("Resolved", _iso(self.ended_at)))
        facts += [(name, value) for name, value in sorted(self.labels.items())]
        return facts


def _iso(at: float) -> str:
    # tecnocursos.lib.timefmt.utc_iso's format; this engine is plain Python and importing
    # anything under tecnocursos/ loads the Celery app (tests/alerts/test_engines_are_plain_python.py).
    return datetime.fromtimestamp(at, tz=UTC).isoformat().replace("+00:00", "Z")


def slack(message: AlertMessage) -> dict[str, Any]:
    """Slack incoming-webhook JSON (also what Mattermost and Rocket.Chat take)."""
    color = COLORS["resolved"] if message.status == "resolved" else COLORS.get(message.severity, COLORS["info"])
    attachment: dict[str, Any] = {
        "color": color, "title": message.title, "text": message.summary,
        "fallback": f"{message.title}: {message.summary}",
        "fields": [{"title": name, "value": value, "short": True} for name, value in message.facts()],
        "ts": int(message.ended_at or message.started_at),
    }
    if message.url:
        attachment["title_link"] = message.url
    return {"text": f"{message.title}: {message.summary}", "attachments": [attachment]}


def teams(message: AlertMessage) -> dict[str, Any]:
    """A Microsoft Teams message with an Adaptive Card (Teams workflows and incoming webhooks)."""
    style = TEAMS_COLORS["resolved"] if message.status == "resolved" else TEAMS_COLORS.get(message.severity, "accent")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium", "color": style,
         "wrap": True},
        {"type": "TextBlock", "text": message.summary, "wrap": True},
        {"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in message.facts()]},
    ]
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                            "version": "1.4", "body": body}
    if message.url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": message.url}]
    return {"type": "message", "summary": message.title,
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                             "content": card}]}


def alertmanager(message: AlertMessage, *, receiver: str = "tecnocursos", external_url: str = "") -> dict[str, Any]:
    """Alertmanager's webhook payload (version 4) carrying one alert."""
    labels = {"alertname": message.rule, "severity": message.severity, **dict(message.labels)}
    annotations = {"summary": message.summary}
    alert = {
        "status": message.status, "labels": labels, "annotations": annotations,
        "startsAt": _iso(message.started_at),
        "endsAt": _iso(message.ended_at) if message.ended_at is not None else "0001-01-01T00:00:00Z",
        "generatorURL": message.url, "fingerprint": message.fingerprint,
    }
    return {
        "version": "4", "groupKey": f"{{}}:{{alertname=\"{message.rule}\"}}", "truncatedAlerts": 0,
        "status": message.status, "receiver": receiver, "groupLabels": {"alertname": message.rule},
        "commonLabels": labels, "commonAnnotations": annotations, "externalURL": external_url, "alerts": [alert],
    }


FORMATS: dict[str, Callable[[AlertMessage], dict[str, Any]]] = {
    "slack": slack,
    "teams": teams,
    "alertmanager": alertmanager,
}
