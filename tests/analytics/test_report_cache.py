"""Reports are cached, and the writes underneath them invalidate their tag."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring import redis_store, services
from monitoring.aggregator import Aggregator
from tecnocursos.core import services as core
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def record_now(count: int) -> None:
    aggregator = Aggregator()
    for _ in range(count):
        aggregator.record_request("GET", "upload-list", 200, 0.01)
    redis_store.flush(aggregator.drain(), server="test")


def test_the_performance_report_is_cached_until_a_rollup_lands(staff_client):
    url = "/api/analytics/reports/performance?days=1"
    record_now(3)
    services.rollups_run(now=time.time() + 600)
    assert staff_client.get(url).json()["requests"] == 3
    record_now(2)
    assert staff_client.get(url).json()["requests"] == 3  # cached: the new minute is not rolled up anyway
    from monitoring.models import RequestRollup

    RequestRollup.objects.filter(tier="hour").update(count=100)  # a write behind the cache's back
    assert staff_client.get(url).json()["requests"] == 3  # still the cached answer
    services.rollups_run(now=time.time() + 600)  # the rollup job invalidates analytics:performance
    assert staff_client.get(url).json()["requests"] == 102


def test_the_content_report_sees_a_new_upload_and_course(staff_client, owner, settings, tmp_path,
                                                         django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    url = "/api/analytics/reports/content?days=1"
    assert staff_client.get(url).json()["uploads"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        core.upload_create(owner=owner, file=SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain"))
        core.course_create(owner=owner, title="Python")
    report = staff_client.get(url).json()
    assert (report["uploads"], report["bytes"], report["courses"]["new"]) == (1, 5, 1)


def test_without_the_commit_the_cached_report_stays(staff_client, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    url = "/api/analytics/reports/content?days=1"
    assert staff_client.get(url).json()["uploads"] == 0
    core.upload_create(owner=owner, file=SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain"))
    assert staff_client.get(url).json()["uploads"] == 0  # invalidated on commit, which this test never reaches


def test_the_users_report_sees_a_login_and_a_new_user(staff_client, owner, django_capture_on_commit_callbacks):
    url = "/api/analytics/reports/users?days=1"
    before = staff_client.get(url).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/api/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    after = staff_client.get(url).json()
    assert after["logins"] == before["logins"] + 1
    from tests.conftest import make_user

    with django_capture_on_commit_callbacks(execute=True):
        make_user("newcomer")
    latest = staff_client.get(url).json()
    assert (latest["total_users"], latest["new_users"]) == (after["total_users"] + 1, after["new_users"] + 1)
    assert datetime.fromisoformat(latest["period"]["end"]) > datetime.now(tz=UTC)  # the end of this minute
