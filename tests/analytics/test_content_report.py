"""GET /api/analytics/reports/content: exact figures on seeded courses and uploads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tecnocursos.core.models import Course, Upload
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
URL = "/api/analytics/reports/content"
PERIOD = "start=2026-11-10T00:00:00Z&end=2026-11-17T00:00:00Z"  # previous: Nov 3 to Nov 10


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def upload(owner, created: datetime, size: int, status: str, *, took_ms: int | None = None, detected: str = "",
           declared: str = "", reason: str = "") -> Upload:
    item = Upload.objects.create(owner=owner, original_name="f", file="uploads/f", size=size, status=status,
                                 detected_type=detected, declared_type=declared, failure_reason=reason)
    started = created + timedelta(seconds=1)
    Upload.objects.filter(id=item.id).update(
        created_at=created, started_at=started if took_ms is not None else None,
        finished_at=started + timedelta(milliseconds=took_ms) if took_ms is not None else None)
    return item


def course(owner, created: datetime, *, published: bool) -> Course:
    item = Course.objects.create(owner=owner, title="c", is_published=published)
    Course.objects.filter(id=item.id).update(created_at=created)
    return item


@pytest.fixture
def seeded(db):
    ana, cy, bo = make_user("ana"), make_user("cy"), make_user("bo")
    upload(ana, at(11), 100, "done", took_ms=2000, detected="text/plain")
    upload(ana, at(12), 300, "done", took_ms=500, detected="application/pdf", declared="text/plain")
    upload(cy, at(12, 13), 50, "failed", took_ms=100, declared="text/csv", reason="ValueError: bad file")
    upload(cy, at(16), 25, "failed", took_ms=4000, reason="ValueError: bad file")
    upload(ana, at(16, 13), 10, "pending")
    upload(bo, at(5), 1000, "done", took_ms=1000, detected="text/plain")  # previous period
    upload(bo, at(20), 7, "done", took_ms=1, detected="text/plain")  # after
    course(ana, at(11), published=True)
    course(ana, at(4), published=False)  # previous period
    course(bo, at(20), published=True)  # after


def test_counts_bytes_and_courses(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    assert (report["uploads"], report["bytes"], report["failed_uploads"], report["new_courses"]) == (5, 485, 2, 1)
    assert report["courses"] == {"total": 2, "published": 1, "new": 1}


def test_by_status_and_by_type(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    assert report["by_status"] == {"done": {"count": 2, "bytes": 400}, "failed": {"count": 2, "bytes": 75},
                                   "pending": {"count": 1, "bytes": 10}}
    assert report["by_type"] == [{"type": "unknown", "count": 2, "bytes": 35},
                                 {"type": "application/pdf", "count": 1, "bytes": 300},
                                 {"type": "text/csv", "count": 1, "bytes": 50},
                                 {"type": "text/plain", "count": 1, "bytes": 100}]


def test_processing_time_percentiles_failures_and_uploaders(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    # Finished in the period: 100, 500, 2000, 4000 ms; nearest rank.
    assert report["processing_ms"] == {"count": 4, "p50": 500.0, "p95": 4000.0, "avg": 1650.0, "max": 4000.0}
    assert report["failure_reasons"] == [{"reason": "ValueError: bad file", "count": 2}]
    assert [(u["username"], u["uploads"], u["bytes"]) for u in report["top_uploaders"]] == [("ana", 3, 410),
                                                                                               ("cy", 2, 75)]


def test_a_row_per_day(staff_client, seeded):
    series = staff_client.get(f"{URL}?{PERIOD}").json()["series"]
    busy = {row["date"]: (row["uploads"], row["bytes"], row["failed"], row["new_courses"])
            for row in series if row["uploads"] or row["new_courses"]}
    assert len(series) == 7
    assert busy == {"2026-11-11": (1, 100, 0, 1), "2026-11-12": (2, 350, 1, 0), "2026-11-16": (2, 35, 1, 0)}


def test_compared_with_the_previous_period(staff_client, seeded):
    report = staff_client.get(f"{URL}?{PERIOD}").json()
    previous = report["previous"]
    assert (previous["uploads"], previous["bytes"], previous["failed_uploads"], previous["new_courses"]) == (1, 1000,
                                                                                                            0, 1)
    assert report["change"]["uploads"] == {"delta": 4, "percent": 400.0}
    assert report["change"]["bytes"] == {"delta": -515, "percent": -51.5}
    assert report["change"]["failed_uploads"] == {"delta": 2, "percent": None}


def test_who_may_read_it(anon_client, outsider_client, staff_client):
    assert anon_client.get(URL).status_code == 401
    assert outsider_client.get(URL).status_code == 403
    assert staff_client.get(URL).status_code == 200


def test_bad_days_is_a_400(staff_client):
    response = staff_client.get(f"{URL}?days=400")
    assert response.status_code == 400
    assert "days" in response.json()
