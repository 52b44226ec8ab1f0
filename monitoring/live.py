"""Live push to the staff `monitoring` group (`/ws/monitoring`, monitoring/consumers.py).

One `group_send` per collection (`sample`) and one per alert change (`alert`), sent after
commit. Pushing is best effort: the channel layer (Redis) being down never fails a
collection or an alert evaluation; the dashboard reloads from the API anyway.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from monitoring.catalog import PUBLIC_SNAPSHOT_SERIES
from tecnocursos.lib.timefmt import utc_iso

if TYPE_CHECKING:
    from monitoring.alerting.models import Alert
    from monitoring.models import SystemSnapshot

logger = logging.getLogger(__name__)

MONITORING_GROUP = "monitoring"


def _request_values() -> dict[str, float | None]:
    """Request rate, 5xx rate and latency over the last minute and a bit (the current one is partial)."""
    from monitoring import selectors

    summary = selectors.request_summary_recent(minutes=2)
    seconds = 60 + time.time() % 60
    latency = summary["latency_ms"]
    return {"requests.per_s": round(summary["requests"] / seconds, 3),
            "requests.errors_per_s": round(summary["server_errors"] / seconds, 3),
            "latency.p50_ms": latency["p50"], "latency.p95_ms": latency["p95"], "latency.p99_ms": latency["p99"]}


def sample_event(snapshot: SystemSnapshot) -> dict[str, Any]:
    values: dict[str, float | None] = {
        name: getattr(snapshot, column) for name, column in PUBLIC_SNAPSHOT_SERIES.items()}
    try:
        values.update(_request_values())
    except Exception:  # Redis down: the system half of the sample is still worth showing
        logger.warning("monitoring: live request figures unavailable", exc_info=True)
    return {"type": "sample", "timestamp": utc_iso(snapshot.timestamp), "host": snapshot.host, "values": values}


def alert_event(alert: Alert, *, change: str) -> dict[str, Any]:
    """`change`: the transition (pending, firing, resolved) or the operator's action (acknowledged)."""
    return {
        "type": "alert", "timestamp": utc_iso(datetime.now(tz=UTC)), "change": change, "id": alert.id,
        "rule": alert.rule.name, "metric": alert.metric, "severity": alert.severity, "state": alert.state,
        "value": alert.value, "threshold": alert.threshold, "message": alert.message,
        "started_at": utc_iso(alert.started_at), "acknowledged": alert.acknowledged_at is not None,
    }


def send(payload: dict[str, Any]) -> bool:
    """One group message; False (logged) when the layer is unavailable."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return False
        async_to_sync(layer.group_send)(MONITORING_GROUP, {"type": "push", "event": payload})
        return True
    except Exception:
        logger.warning("monitoring: live push of %r failed", payload.get("type"), exc_info=True)
        return False


def sample_push(snapshot: SystemSnapshot) -> None:
    """After commit: the sample is in the database before anyone is told about it."""
    transaction.on_commit(lambda: send(sample_event(snapshot)), robust=True)


def alert_push(alert: Alert, *, change: str) -> None:
    payload = alert_event(alert, change=change)  # now, while the row is as this transaction left it
    transaction.on_commit(lambda: send(payload), robust=True)
