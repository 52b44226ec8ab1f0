"""The backups' series for GET /metrics (plugged in through settings.MONITORING_EXPORTERS)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from backups.selectors import backup_facts


def backup_families() -> list[Metric]:
    last_success = GaugeMetricFamily(
        "backup_last_success_timestamp_seconds", "When the configuration last completed a backup (UNIX time)",
        labels=["config"],
    )
    failing = GaugeMetricFamily("backup_last_run_failed", "1 when the configuration's latest run failed",
                                labels=["config"])
    for fact in backup_facts():
        if fact["last_success_at"] is not None:
            last_success.add_metric([fact["config"]], fact["last_success_at"].timestamp())
        failing.add_metric([fact["config"]], 1.0 if fact["last_status"] == "failed" else 0.0)
    return [last_success, failing]
