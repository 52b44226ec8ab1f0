"""User activity: logins (session and token), active days and last seen from request metrics,
without a database write per request."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import selectors
from analytics.models import Login
from monitoring import services
from monitoring.models import ActiveUserDay
from tests.conftest import PASSWORD, api_client_for

pytestmark = pytest.mark.django_db


def test_a_token_sign_in_is_a_login_and_sets_last_login(anon_client, owner):
    response = anon_client.post("/api/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    login = Login.objects.get(user=owner)
    assert login.via == "token"
    owner.refresh_from_db()
    assert owner.last_login is not None and abs((owner.last_login - login.at).total_seconds()) < 5


def test_a_wrong_password_is_no_login(anon_client, owner):
    response = anon_client.post("/api/auth/token/", {"username": "owner", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert not Login.objects.exists()


def test_a_session_sign_in_is_a_login(client, owner):
    assert client.login(username="owner", password=PASSWORD)
    assert Login.objects.get(user=owner).via == "session"


def test_requests_make_an_active_day_and_last_seen_only_when_rolled_up(owner, flush):
    client = api_client_for(owner)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/api/courses/").status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []  # no write per request: counted in memory, then in Redis
    flush()
    assert not ActiveUserDay.objects.exists()
    services.requests_rollup(now=time.time() + 600)
    day = ActiveUserDay.objects.get(user=owner)
    assert (day.day, day.requests) == (datetime.now(tz=UTC).date(), 3)
    assert selectors.user_last_seen(user_id=owner.id) == day.last_seen

    report = api_client_for_staff().get("/api/analytics/reports/users?days=1").json()
    assert report["active_users"] == 1
    assert report["most_active"][0]["username"] == "owner" and report["most_active"][0]["requests"] == 3


def api_client_for_staff():
    from tests.conftest import make_user

    return api_client_for(make_user("boss", staff=True))
