"""GET /api/analytics/reports/users: exact figures on seeded users, activity days and logins."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from analytics.models import Login
from monitoring.models import ActiveUserDay
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
URL = "/api/analytics/reports/users"
PERIOD = "start=2026-11-10T00:00:00Z&end=2026-11-17T00:00:00Z"  # previous: Nov 3 to Nov 10


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def joined(username: str, when: datetime):
    user = make_user(username)
    user.date_joined = when
    user.save(update_fields=["date_joined"])
    return user


def active(user, day: int, requests: int, *, month: int = 11) -> None:
    ActiveUserDay.objects.create(user=user, day=date(2026, month, day), requests=requests,
                                 last_seen=datetime(2026, month, day, 18, 1, tzinfo=UTC))


@pytest.fixture
def seeded(db):
    u1 = joined("ana", datetime(2026, 10, 1, tzinfo=UTC))
    u2 = joined("bo", at(5))  # joined in the previous period
    u3 = joined("cy", at(12))
    u4 = joined("di", at(16))
    joined("ed", at(20))  # after the period
    active(u1, 4, 5)
    active(u1, 11, 10)
    active(u1, 12, 3)
    active(u2, 6, 2)
    active(u3, 12, 7)
    active(u3, 16, 1)
    active(u4, 18, 4)  # after the period
    for user, when in ((u1, at(11, 10)), (u3, at(12, 9)), (u3, at(12, 18)), (u2, at(5))):
        Login.objects.create(user=user, at=when, via="token")
    return u1, u2, u3, u4


def test_figures_of_the_period(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    assert report["period"] == {"start": "2026-11-10T00:00:00Z", "end": "2026-11-17T00:00:00Z"}
    assert {k: report[k] for k in ("total_users", "active_users", "new_users", "returning_users", "retention",
                                   "logins", "users_logged_in")} == {
        "total_users": 4, "active_users": 2, "new_users": 2, "returning_users": 1, "retention": 0.5,
        "logins": 3, "users_logged_in": 2,
    }
    assert report["activity"] == {"daily": 1, "weekly": 2, "monthly": 3}


def test_a_row_per_day_with_activity_signups_and_logins(staff_client, seeded):
    series = staff_client.get(f"{URL}?{PERIOD}").json()["series"]
    assert [row["date"] for row in series] == [f"2026-11-{d}" for d in range(10, 17)]
    by_day = {row["date"][-2:]: (row["active_users"], row["requests"], row["new_users"], row["logins"])
              for row in series}
    assert by_day == {"10": (0, 0, 0, 0), "11": (1, 10, 0, 1), "12": (2, 10, 1, 2), "13": (0, 0, 0, 0),
                      "14": (0, 0, 0, 0), "15": (0, 0, 0, 0), "16": (1, 1, 1, 0)}


def test_most_active_users_with_last_seen(staff_client, seeded):
    most = staff_client.get(f"{URL}?{PERIOD}").json()["most_active"]
    assert [(u["username"], u["requests"], u["days_active"], u["last_seen"]) for u in most] == [
        ("ana", 13, 2, "2026-11-12T18:01:00Z"), ("cy", 8, 2, "2026-11-16T18:01:00Z")]


def test_compared_with_the_previous_period(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    previous = report["previous"]
    assert previous["period"] == {"start": "2026-11-03T00:00:00Z", "end": "2026-11-10T00:00:00Z"}
    figures = (previous["total_users"], previous["active_users"], previous["new_users"], previous["logins"])
    assert figures == (2, 2, 1, 1)
    assert report["change"]["active_users"] == {"delta": 0, "percent": 0.0}
    assert report["change"]["new_users"] == {"delta": 1, "percent": 100.0}
    assert report["change"]["logins"] == {"delta": 2, "percent": 200.0}
    assert report["change"]["total_users"] == {"delta": 2, "percent": 100.0}


def test_days_counts_back_from_today(staff_client, seeded):
    report = staff_client.get(f"{URL}?days=3").json()
    today = datetime.now(tz=UTC).date()
    assert [row["date"] for row in report["series"]][-1] == today.isoformat()
    assert len(report["series"]) == 3


def test_seven_days_by_default(staff_client):
    assert len(staff_client.get(URL).json()["series"]) == 7


@pytest.mark.parametrize("query", ["days=0", "days=366", "days=-1", "days=x", "days=", "start=nope",
                                   "start=2026-11-10T00:00:00Z&end=2026-11-09T00:00:00Z",
                                   "start=2024-01-01T00:00:00Z&end=2026-01-01T00:00:00Z",
                                   "days=3&start=2026-11-10T00:00:00Z&end=2026-11-12T00:00:00Z"])
def test_bad_values_are_a_400_with_a_message(staff_client, query):
    response = staff_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


def test_who_may_read_it(anon_client, outsider_client, staff_client):
    assert anon_client.get(URL).status_code == 401
    assert outsider_client.get(URL).status_code == 403
    assert staff_client.get(URL).status_code == 200
