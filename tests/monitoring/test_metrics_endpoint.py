"""GET /metrics: who may scrape it, and an exposition prometheus_client's own parser reads."""

from __future__ import annotations

import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from monitoring import services

pytestmark = pytest.mark.django_db

TOKEN = "scrape-me-0123456789"


def parse(response) -> dict:
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    return families


def samples(families: dict, name: str, family: str | None = None) -> dict[tuple, float]:
    """Samples called `name`, by their sorted labels; the family defaults to `name` less `_total`."""
    family = family or name.removesuffix("_total")
    return {tuple(sorted(s.labels.items())): s.value for s in families[family].samples if s.name == name}


def alerts_firing():
    family = GaugeMetricFamily("alerts_firing", "Firing alerts", labels=["severity"])
    family.add_metric(["critical"], 2)
    return [family]


def test_anonymous_scrapers_get_a_json_401(anon_client):
    response = anon_client.get("/metrics")
    assert response.status_code == 401 and response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_users_who_are_not_staff_get_a_json_403(owner_client):
    response = owner_client.get("/metrics")
    assert response.status_code == 403 and "detail" in response.json()


def test_the_metrics_token_opens_it_and_a_wrong_one_does_not(anon_client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert anon_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert anon_client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert anon_client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    settings.METRICS_TOKEN = ""
    assert anon_client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_the_token_opens_nothing_else(anon_client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert anon_client.get("/api/analytics/system/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 401


def test_staff_get_the_exposition_whatever_they_accept(staff_api):
    for accept in ("text/plain", "application/openmetrics-text; version=1.0.0", "application/json", "*/*"):
        response = staff_api.get("/metrics", HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")


def test_the_exposition_parses_and_has_the_contract_names(staff_api, anon_client, owner_client):
    services.snapshot_collect(host="metrics-test", force=True)
    services.snapshot_collect(host="metrics-test", force=True)
    anon_client.get("/api/uploads/")
    owner_client.get("/api/uploads/424242/")
    families = parse(staff_api.get("/metrics"))
    requests = samples(families, "http_requests_total")
    assert requests[(("method", "GET"), ("route", "upload-list"), ("status", "401"))] == 1
    assert requests[(("method", "GET"), ("route", "upload-detail"), ("status", "404"))] == 1
    assert not [labels for labels in requests if "424242" in str(labels)]  # routes, never raw paths
    assert families["http_request_duration_seconds"].type == "histogram"
    buckets = samples(families, "http_request_duration_seconds_bucket", "http_request_duration_seconds")
    assert buckets[(("le", "+Inf"), ("method", "GET"), ("route", "upload-list"))] == 1
    for name in ("websocket_connections", "websocket_messages", "node_cpu_seconds", "node_memory_MemAvailable_bytes",
                 "node_filesystem_avail_bytes", "node_load1", "celery_queue_length", "cache_hits"):
        assert name in families, name
    assert {dict(s.labels)["direction"] for s in families["websocket_messages"].samples} == {"in", "out"}
    modes = {s.labels["mode"] for s in families["node_cpu_seconds"].samples}
    assert {"user", "system", "idle"} <= modes and "guest" not in modes
    assert all(s.value == 0 for s in families["tecnocursos_scrape_error"].samples)


def test_later_subsystems_plug_their_families_in(staff_api, settings):
    settings.MONITORING_EXPORTERS = ["tests.monitoring.test_metrics_endpoint.alerts_firing"]
    families = parse(staff_api.get("/metrics"))
    assert samples(families, "alerts_firing") == {(("severity", "critical"),): 2}


def test_a_source_that_fails_is_reported_not_a_500(staff_api, settings):
    settings.MONITORING_WEBSOCKET_STATS = "tests.monitoring.test_metrics_endpoint.no_such_function"
    response = staff_api.get("/metrics")
    assert response.status_code == 200
    errors = samples(parse(response), "tecnocursos_scrape_error")
    assert errors[(("source", "websocket"),)] == 1 and errors[(("source", "http"),)] == 0


def test_node_series_are_left_out_when_the_latest_sample_is_stale(staff_api):
    from datetime import UTC, datetime, timedelta

    from monitoring.models import SystemSnapshot

    SystemSnapshot.objects.create(timestamp=datetime.now(tz=UTC) - timedelta(minutes=5), host="old",
                                  memory_available_bytes=1.0)
    families = parse(staff_api.get("/metrics"))
    assert samples(families, "node_memory_MemAvailable_bytes") == {}
