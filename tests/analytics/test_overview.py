"""GET /api/analytics/dashboard/overview: every part from its source; a failing source is null + reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.alerting.models import Alert
from monitoring.models import ActiveUserDay, SystemSnapshot, Tier
from tecnocursos.core.models import Upload
from tests.alerts.conftest import make_rule
from tests.analytics.seed import request_rollup

pytestmark = pytest.mark.django_db
URL = "/api/analytics/dashboard/overview"
PARTS = {"system", "requests", "active_users", "alerts", "cache", "backups", "websocket", "uploads"}


def test_who_may_read_it(anon_client, outsider_client, staff_client):
    assert anon_client.get(URL).status_code == 401
    assert outsider_client.get(URL).status_code == 403
    assert staff_client.get(URL).status_code == 200


def test_every_part_from_its_source(staff_client, staff, owner, flush):
    now = datetime.now(tz=UTC)
    SystemSnapshot.objects.create(timestamp=now - timedelta(seconds=5), host="web-1", cpu_percent=42.5,
                                  memory_percent=61.0, disk_percent=70.0, load_1=0.5)
    rule = make_rule(severity="critical")
    Alert.objects.create(rule=rule, fingerprint="a", severity="critical", metric="cpu_percent", state="firing",
                         value=97.0, threshold=90.0, message="CPU high", started_at=now - timedelta(minutes=3))
    Alert.objects.create(rule=rule, fingerprint="b", severity="warning", metric="cpu_percent", state="pending",
                         message="CPU rising", started_at=now - timedelta(minutes=1))
    Upload.objects.create(owner=owner, original_name="intro.pdf", file="uploads/x", size=12, status="failed")
    ActiveUserDay.objects.create(user=owner, day=now.date(), requests=3, last_seen=now)
    two_hours_ago = (now - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    request_rollup(two_hours_ago, tier=Tier.HOUR, latencies=[0.01] * 7, statuses={200: 5, 503: 2})
    request_rollup(now - timedelta(hours=30), tier=Tier.HOUR, latencies=[0.01] * 4)  # older than a day
    staff_client.get("/api/courses/")  # a request of the last minutes, still in Redis
    flush()

    overview = staff_client.get(URL).json()
    assert set(overview) == PARTS | {"generated_at", "unavailable"}
    assert overview["unavailable"] == {}
    assert (overview["system"]["host"], overview["system"]["cpu_percent"], overview["system"]["fresh"]) == (
        "web-1", 42.5, True)
    assert overview["requests"]["requests"] >= 1 and overview["requests"]["window_minutes"] == 5
    assert overview["requests"]["last_24h"]["requests"] == 7  # from the hour rollups
    assert overview["requests"]["last_24h"]["error_rate"] == round(2 / 7, 6)
    assert overview["active_users"]["today"] == 1
    assert overview["active_users"]["last_15_minutes"] >= 1
    assert (overview["alerts"]["firing"], overview["alerts"]["pending"]) == (1, 1)
    assert overview["alerts"]["by_severity"]["critical"] == {"firing": 1, "pending": 0}
    assert [a["message"] for a in overview["alerts"]["newest"]] == ["CPU rising", "CPU high"]
    assert overview["uploads"]["last_24h"]["failed"] == 1
    assert overview["uploads"]["recent"][0]["name"] == "intro.pdf"
    assert {"l1", "l2"} <= set(overview["cache"])
    assert "connections" in overview["websocket"]
    assert overview["backups"]["counts"]["total"] == 0


def test_a_part_without_data_says_why(staff_client):
    overview = staff_client.get(URL).json()
    assert overview["system"] is None
    assert "No system sample yet" in overview["unavailable"]["system"]


def test_a_failing_source_is_null_with_its_reason_and_the_rest_still_answers(staff_client, monkeypatch):
    from backups import selectors as backups
    from monitoring import selectors as monitoring

    def broken(*args, **kwargs):
        raise ConnectionError("Redis is gone")

    monkeypatch.setattr(backups, "backup_overview", lambda: 1 / 0)
    monkeypatch.setattr(monitoring, "websocket_stats", broken)
    response = staff_client.get(URL)
    assert response.status_code == 200
    overview = response.json()
    assert overview["backups"] is None and overview["websocket"] is None
    assert overview["unavailable"]["backups"].startswith("ZeroDivisionError")
    assert overview["unavailable"]["websocket"] == "ConnectionError: Redis is gone"
    assert overview["uploads"] is not None and overview["alerts"] is not None


def test_a_failing_database_query_does_not_spoil_the_next_parts(staff_client, monkeypatch):
    from django.db import connection

    from monitoring.alerting import selectors as alerts

    def bad_query():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(alerts, "alert_counts", bad_query)
    overview = staff_client.get(URL).json()
    assert overview["alerts"] is None and "no_such_table" in overview["unavailable"]["alerts"]
    assert overview["uploads"] is not None and overview["backups"] is not None
