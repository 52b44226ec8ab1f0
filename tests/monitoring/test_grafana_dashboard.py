"""The Grafana dashboard and recording rules in the repository query only series GET /metrics exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitoring import exposition, services

pytestmark = pytest.mark.django_db

GRAFANA = Path(__file__).resolve().parents[2] / "monitoring" / "grafana"
DASHBOARD = GRAFANA / "tecnocursos-dashboard.json"
# Families that later subsystems add through MONITORING_EXPORTERS.
PLUGGED_IN = {"alerts_firing", "backup_last_success_timestamp_seconds"}
METRIC = re.compile(r"\b(?:http|node|websocket|celery|cache|tecnocursos|alerts|backup)_[A-Za-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",), "untyped": ("",)}


def exposed_names() -> set[str]:
    services.snapshot_collect(host="grafana-test", force=True)
    text = exposition.render().decode()
    return {family.name + suffix for family in text_string_to_metric_families(text)
            for suffix in SUFFIXES.get(family.type, ("",))}


def test_every_panel_query_uses_exposed_series():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert len(exprs) > 20
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert used - exposed_names() - PLUGGED_IN == set()
    assert {"http_requests_total", "http_request_duration_seconds_bucket", "node_cpu_seconds_total"} <= used


def test_the_recording_rules_use_exposed_series():
    import yaml

    rules = yaml.safe_load((GRAFANA / "recording-rules.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert used and used - exposed_names() == set()
