"""POST /api/analytics/control/stop|start: every collector pauses and resumes, in every process."""

from __future__ import annotations

import pytest

from monitoring import redis_store, services, task_metrics
from monitoring.models import SystemSnapshot
from monitoring.recorder import recorder
from tests.monitoring.fakes import FakeMachine

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", ["stop", "start"])
def test_only_staff_may_switch_collection(action, anon_client, owner_client):
    assert anon_client.post(f"/api/analytics/control/{action}").status_code == 401
    response = owner_client.post(f"/api/analytics/control/{action}")
    assert response.status_code == 403 and "detail" in response.json()


def test_stop_and_start_say_so_and_are_shared_through_redis(staff_api, staff_user):
    response = staff_api.post("/api/analytics/control/stop")
    assert response.status_code == 200
    assert response.json()["collecting"] is False and response.json()["changed_by"] == staff_user.username
    assert redis_store.collecting() is False
    assert staff_api.post("/api/analytics/control/start").json()["collecting"] is True
    assert redis_store.collecting() is True


def test_get_is_not_allowed(staff_api):
    assert staff_api.get("/api/analytics/control/stop").status_code == 405


def test_a_pause_stops_every_collector_and_a_resume_restarts_them(staff_api, anon_client, flush):
    machine = FakeMachine()
    staff_api.post("/api/analytics/control/stop")
    recorder().refresh_switch()  # what every other process's flush thread does
    anon_client.get("/api/uploads/")
    task_metrics.on_prerun(task_id="t1")
    task_metrics.on_postrun(sender=type("T", (), {"name": "some.task"})(), task_id="t1", state="SUCCESS")
    assert services.snapshot_collect(host="h", reader=machine.read) is None
    flush()
    assert redis_store.totals() == {}
    assert not SystemSnapshot.objects.exists()

    staff_api.post("/api/analytics/control/start")
    recorder().refresh_switch()
    anon_client.get("/api/uploads/")
    task_metrics.on_prerun(task_id="t2")
    task_metrics.on_postrun(sender=type("T", (), {"name": "some.task"})(), task_id="t2", state="SUCCESS")
    assert services.snapshot_collect(host="h", reader=machine.read) is not None
    flush()
    totals = redis_store.totals()
    assert totals["h|n|GET|upload-list|401"] == "1" and totals["t|n|some.task|success"] == "1"


def test_when_redis_is_down_the_switch_answers_503(staff_api, settings):
    from tecnocursos.lib.redis_urls import RedisUrls
    from tests.cache.conftest import free_port

    staff_api.get("/api/courses/")  # authenticate before Redis goes away
    settings.REDIS = RedisUrls.parse(f"redis://127.0.0.1:{free_port()}/0")
    response = staff_api.post("/api/analytics/control/stop")
    assert response.status_code == 503 and "Redis" in response.json()["detail"]
