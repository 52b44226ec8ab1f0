"""GET /api/analytics/system/metrics: the latest sample with the CONTRACT fields."""

from __future__ import annotations

import pytest

from monitoring import services
from tests.monitoring.fakes import FakeMachine, process

pytestmark = pytest.mark.django_db

URL = "/api/analytics/system/metrics"


def test_anonymous_401_user_403(anon_client, owner_client):
    assert anon_client.get(URL).status_code == 401
    response = owner_client.get(URL)
    assert response.status_code == 403 and "detail" in response.json()


def test_no_sample_yet_is_a_404_that_says_why(staff_api):
    response = staff_api.get(URL)
    assert response.status_code == 404 and "No system sample" in response.json()["detail"]


def test_the_latest_sample_has_the_contract_fields(staff_api, fake_clock_collection):
    machine = FakeMachine(processes=[process(7, "celery_worker", 1.0)])
    services.snapshot_collect(host="h1", reader=machine.read)
    machine.advance(10, cpu={"user": 3.0, "idle": 7.0})
    services.snapshot_collect(host="h1", reader=machine.read)
    body = staff_api.get(URL).json()
    assert body["timestamp"] and body["host"] == "h1"
    assert body["cpu"]["percent"] == 30.0 and body["cpu"]["load"] == {"one": 0.5, "five": 0.4, "fifteen": 0.3}
    assert body["memory"]["percent"] == 25.0
    assert body["disk"]["percent"] == 90.0 and {m["mountpoint"] for m in body["disk"]["mounts"]} == {"/", "/data"}
    assert "receive_bytes_per_second" in body["network"] and body["network"]["interfaces"]
    assert body["process"]["count"] == 1 and body["process"]["processes"][0]["role"] == "celery_worker"
    assert body["interval_seconds"] == 10 and body["stale"] is True  # the fake clock is in the past


def test_a_host_can_be_chosen_and_an_unknown_one_is_404(staff_api):
    machine = FakeMachine()
    services.snapshot_collect(host="h1", reader=machine.read)
    machine.advance(10)
    services.snapshot_collect(host="h2", reader=machine.read)
    assert staff_api.get(URL).json()["host"] == "h2"
    assert staff_api.get(URL, {"host": "h1"}).json()["host"] == "h1"
    assert staff_api.get(URL, {"host": "nope"}).status_code == 404
    assert staff_api.get(URL, {"host": "x" * 300}).status_code == 400
