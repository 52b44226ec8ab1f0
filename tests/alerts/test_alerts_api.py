"""GET /api/analytics/alerts, /alerts/history, /alerts/rules, /alerts/{id}; acknowledge, silence,
unsilence: staff only, CONTRACT fields, bad input refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.alerting.models import Alert
from tests.alerts.conftest import evaluate, make_rule, sample

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {"id", "rule", "metric", "severity", "state", "value", "threshold", "started_at", "message"}


@pytest.fixture
def firing(no_default_rules, t0) -> Alert:
    rule = make_rule(name="CPU", threshold=90, severity="critical")
    sample(t0, cpu_percent=97.5)
    evaluate(rule, t0)
    return Alert.objects.get(rule=rule)


def paths(alert_id: int) -> list[tuple[str, str]]:
    base = "/api/analytics/alerts"
    return [("get", base), ("get", f"{base}/history"), ("get", f"{base}/rules"), ("get", f"{base}/{alert_id}"),
            ("post", f"{base}/{alert_id}/acknowledge"), ("post", f"{base}/{alert_id}/silence"),
            ("post", f"{base}/{alert_id}/unsilence")]


def test_every_alert_endpoint_is_staff_only(firing, anon_client, outsider_client):
    for method, path in paths(firing.id):
        assert getattr(anon_client, method)(path, {}, format="json").status_code == 401, path
        assert getattr(outsider_client, method)(path, {}, format="json").status_code == 403, path


def test_active_alerts_carry_the_contract_fields(firing, staff_client):
    response = staff_client.get("/api/analytics/alerts")
    assert response.status_code == 200
    [alert] = response.json()
    assert CONTRACT_FIELDS <= set(alert)
    assert alert["rule"] == "CPU" and alert["metric"] == "cpu_percent" and alert["state"] == "firing"
    assert alert["severity"] == "critical" and alert["value"] == 97.5 and alert["threshold"] == 90
    assert alert["labels"] == {"host": "h1"} and alert["acknowledged"] is False and alert["silenced_until"] is None
    assert alert["band"] is None and alert["forecast"] is None


def test_active_alerts_leave_resolved_ones_out_and_filter(firing, staff_client, t0):
    assert staff_client.get("/api/analytics/alerts?severity=warning").json() == []
    assert len(staff_client.get("/api/analytics/alerts?state=firing").json()) == 1
    sample(t0 + 10, cpu_percent=5)
    evaluate(firing.rule, t0 + 10)
    assert staff_client.get("/api/analytics/alerts").json() == []


def test_the_history_is_paginated_newest_first_with_events(firing, staff_client, t0):
    sample(t0 + 10, cpu_percent=5)
    evaluate(firing.rule, t0 + 10)
    sample(t0 + 20, cpu_percent=99)
    evaluate(firing.rule, t0 + 20)
    page = staff_client.get("/api/analytics/alerts/history?page_size=1").json()
    assert page["count"] == 2 and page["next"] and len(page["results"]) == 1
    newest = page["results"][0]
    assert newest["state"] == "firing" and [e["kind"] for e in newest["events"]] == ["pending", "firing"]
    older = staff_client.get("/api/analytics/alerts/history?state=resolved").json()["results"][0]
    assert [e["kind"] for e in older["events"]] == ["pending", "firing", "resolved"]
    assert staff_client.get(f"/api/analytics/alerts/history?rule={firing.rule_id}").json()["count"] == 2
    assert staff_client.get("/api/analytics/alerts/history?rule=987654").json()["count"] == 0


def test_acknowledge_records_who_and_is_idempotent(firing, staff_client, staff):
    response = staff_client.post(f"/api/analytics/alerts/{firing.id}/acknowledge", {"comment": "looking"},
                                 format="json")
    assert response.status_code == 200 and response.json()["acknowledged_by"] == "staff"
    again = staff_client.post(f"/api/analytics/alerts/{firing.id}/acknowledge", {}, format="json")
    assert again.status_code == 200
    assert firing.events.filter(kind="acknowledged").count() == 1


def test_a_resolved_alert_cannot_be_acknowledged(firing, staff_client, t0):
    sample(t0 + 10, cpu_percent=5)
    evaluate(firing.rule, t0 + 10)
    response = staff_client.post(f"/api/analytics/alerts/{firing.id}/acknowledge", {}, format="json")
    assert response.status_code == 409 and "resolved" in response.json()["detail"]


def test_silence_until_a_time_then_unsilence(firing, staff_client):
    until = (datetime.now(tz=UTC) + timedelta(hours=2)).replace(microsecond=0)
    response = staff_client.post(f"/api/analytics/alerts/{firing.id}/silence",
                                 {"until": until.isoformat(), "comment": "deploy"}, format="json")
    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()["silenced_until"]) == until
    assert staff_client.get("/api/analytics/alerts").json()[0]["silenced_until"] is not None
    ended = staff_client.post(f"/api/analytics/alerts/{firing.id}/unsilence", format="json").json()
    assert ended["ended"] == 1 and ended["alert"]["silenced_until"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({}, "until"), ({"until": "tomorrow"}, "until"), ({"until": "2001-01-01T00:00:00Z"}, "detail"),
    ({"until": "2999-01-01T00:00:00Z"}, "detail"), ({"until": "2030-01-01T00:00:00Z", "reason": "x"}, "detail"),
    ({"until": "2030-01-01T00:00:00Z", "comment": 5}, "comment"),
])
def test_a_bad_silence_is_a_400(firing, staff_client, body, field):
    response = staff_client.post(f"/api/analytics/alerts/{firing.id}/silence", body, format="json")
    assert response.status_code == 400 and field in response.json()


@pytest.mark.parametrize("query", ["severity=loud", "state=resolved", "state=", "page_size=0"])
def test_bad_list_queries_are_a_400(staff_client, query):
    path = "/api/analytics/alerts" if "page" not in query else "/api/analytics/alerts/history"
    assert staff_client.get(f"{path}?{query}").status_code == 400


@pytest.mark.parametrize("query", ["rule=0", "rule=x", "state=done"])
def test_bad_history_queries_are_a_400(staff_client, query):
    assert staff_client.get(f"/api/analytics/alerts/history?{query}").status_code == 400


def test_a_missing_alert_is_a_404(staff_client, db):
    for method, path in paths(987654321)[3:]:
        assert getattr(staff_client, method)(path, {}, format="json").status_code == 404, path


def test_the_rules_are_listed_with_their_active_alerts(firing, staff_client):
    rules = {r["name"]: r for r in staff_client.get("/api/analytics/alerts/rules").json()}
    assert rules["CPU"]["active_alerts"] == 1 and rules["CPU"]["kind"] == "static"
    assert "Disk will fill within 24 h" in rules  # seeded


def test_the_detail_shows_the_history(firing, staff_client):
    body = staff_client.get(f"/api/analytics/alerts/{firing.id}").json()
    assert body["id"] == firing.id and [e["kind"] for e in body["events"]] == ["pending", "firing"]
