"""The admin: read-only snapshots and rollups with date filters; settings and controls on the snapshot list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring import redis_store
from monitoring.models import MetricRollup, RequestRollup, SystemSnapshot, Tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, django_user_model):
    user = django_user_model.objects.create_superuser("op", "op@example.com", "pw-op-123456")
    client.force_login(user)
    return client


def test_the_snapshot_list_shows_the_settings_and_the_switch(operator):
    SystemSnapshot.objects.create(timestamp=datetime(2026, 1, 5, tzinfo=UTC), host="h", cpu_percent=12.5)
    response = operator.get("/admin/monitoring/systemsnapshot/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "MONITORING_COLLECT_INTERVAL" in body and "Collecting" in body and "Pause collection" in body


def test_rows_are_read_only_and_filter_by_date(operator):
    bucket = datetime(2026, 1, 5, 10, tzinfo=UTC)
    MetricRollup.objects.create(tier=Tier.MINUTE, bucket=bucket, host="h", metric="cpu_percent", count=2, sum=3,
                                min=1, max=2)
    row = RequestRollup.objects.create(tier=Tier.HOUR, bucket=bucket, method="GET", route="upload-list", count=3)
    for url in ("/admin/monitoring/metricrollup/", "/admin/monitoring/requestrollup/"):
        assert operator.get(url, {"bucket__year": 2026, "bucket__month": 1, "bucket__day": 5}).status_code == 200
    assert operator.get("/admin/monitoring/requestrollup/add/").status_code == 403
    change = operator.post(f"/admin/monitoring/requestrollup/{row.id}/change/", {"count": 99})
    assert change.status_code == 403
    assert RequestRollup.objects.get(id=row.id).count == 3


def test_pause_and_resume_from_the_admin(operator):
    response = operator.post("/admin/monitoring/systemsnapshot/control/pause/")
    assert response.status_code == 302
    assert redis_store.collecting() is False
    operator.post("/admin/monitoring/systemsnapshot/control/resume/")
    assert redis_store.collecting() is True


def test_a_sample_can_be_taken_from_the_admin_and_get_is_refused(operator):
    assert operator.get("/admin/monitoring/systemsnapshot/control/collect/").status_code == 405
    operator.post("/admin/monitoring/systemsnapshot/control/collect/")
    assert SystemSnapshot.objects.count() == 1
    response = operator.post("/admin/monitoring/systemsnapshot/control/nonsense/", follow=True)
    assert "Unknown action" in response.content.decode()


def test_non_staff_cannot_use_the_controls(client, owner):
    client.force_login(owner)
    assert client.post("/admin/monitoring/systemsnapshot/control/pause/").status_code == 302  # to the login
    assert redis_store.collecting() is True
