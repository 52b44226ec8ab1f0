"""`alerts_firing{severity}` (and `alerts_pending{severity}`) for /metrics, plugged in through
MONITORING_EXPORTERS. Every severity is always present, at 0 when nothing fires."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric

from monitoring.alerting.selectors import alert_counts


def alert_families() -> list[Metric]:
    counts = alert_counts()
    firing = GaugeMetricFamily("alerts_firing", "Alerts firing now, by severity", labels=["severity"])
    pending = GaugeMetricFamily("alerts_pending", "Alerts pending (condition holding, `for` not elapsed yet)",
                                labels=["severity"])
    for severity, states in sorted(counts.items()):
        firing.add_metric([severity], states["firing"])
        pending.add_metric([severity], states["pending"])
    return [firing, pending]
