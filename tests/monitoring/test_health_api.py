"""GET /api/analytics/system/health: each dependency down gives the right status and code."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.db import connections

from monitoring import health, selectors, task_metrics
from tecnocursos.lib.redis_urls import RedisUrls
from tests.cache.conftest import free_port, wait_until

pytestmark = pytest.mark.django_db

URL = "/api/analytics/system/health"
CHECKS = {"database", "cache", "channel_layer", "celery", "disk"}


@pytest.fixture(autouse=True)
def _no_reuse(settings):
    settings.MONITORING_HEALTH_CACHE_SECONDS = 0


@pytest.fixture
def worker_alive():
    task_metrics.on_worker_ready(sender=SimpleNamespace(hostname="celery@health-test"))
    assert wait_until(lambda: "celery@health-test" in selectors.celery_workers())
    yield
    task_metrics.on_worker_shutdown()


def test_anonymous_callers_and_users_get_only_the_status(anon_client, owner_client, worker_alive):
    for client in (anon_client, owner_client):
        response = client.get(URL)
        assert response.status_code == 200
        assert response.json() == {"status": "healthy"}


def test_staff_get_every_check_with_its_latency(staff_api, worker_alive):
    body = staff_api.get(URL).json()
    assert body["status"] == "healthy"
    assert set(body["checks"]) == CHECKS
    for check in body["checks"].values():
        assert check["status"] == "ok" and check["latency_ms"] >= 0
    assert body["checks"]["database"]["critical"] is True and body["checks"]["celery"]["critical"] is False


def test_without_a_worker_heartbeat_the_service_is_degraded_not_down(anon_client, staff_api):
    assert anon_client.get(URL).json() == {"status": "degraded"}
    check = staff_api.get(URL).json()["checks"]["celery"]
    assert (check["status"], check["detail"]) == ("fail", "no worker heartbeat")


def test_a_stopped_worker_clears_its_heartbeat(worker_alive):
    assert selectors.celery_workers()
    task_metrics.on_worker_shutdown()
    assert selectors.celery_workers() == {}


def test_a_full_disk_degrades(anon_client, settings, worker_alive):
    settings.MONITORING_HEALTH_DISK_MIN_FREE_PERCENT = 100.5
    assert anon_client.get(URL).json() == {"status": "degraded"}


@pytest.fixture
def dead_database(settings):
    default = connections["default"]
    dead = dict(default.settings_dict)
    if default.vendor == "sqlite":
        dead["NAME"] = "/nonexistent/monitoring/db.sqlite3"
    else:
        dead.update(PORT=str(free_port()), HOST="127.0.0.1")
    connections["monitoring_dead"] = type(default)(dead, alias="monitoring_dead")
    settings.MONITORING_HEALTH_DATABASE = "monitoring_dead"
    yield
    connections["monitoring_dead"].close()
    del connections["monitoring_dead"]


def test_a_dead_database_makes_the_service_unhealthy_with_503(anon_client, dead_database, worker_alive):
    response = anon_client.get(URL)
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "detail": "A critical dependency is failing."}
    report = health.report()
    assert report.failed == ["database"] and not report.checks["database"].ok


def test_with_its_redis_stopped_the_service_is_degraded(anon_client, staff_api, settings, private_redis):
    from tecnocursos.cache import backend as backend_module

    staff_api.get("/api/courses/")
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": private_redis.url,
                                   "OPTIONS": {**settings.CACHES["default"]["OPTIONS"], "SOCKET_TIMEOUT": 0.2}}}
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [private_redis.url]}}}
    settings.REDIS = RedisUrls.parse(private_redis.url)
    settings.MONITORING_HEALTH_TIMEOUT = 0.5
    try:
        task_metrics.on_worker_ready(sender=SimpleNamespace(hostname="celery@private"))
        assert wait_until(lambda: selectors.celery_workers())
        assert anon_client.get(URL).json() == {"status": "healthy"}
        private_redis.stop()
        response = staff_api.get(URL)
        # The API still answers without Redis (503 only where it is needed): degraded, not down.
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        failed = {name for name, check in body["checks"].items() if check["status"] == "fail"}
        assert failed == {"cache", "channel_layer", "celery"}
    finally:
        task_metrics.on_worker_shutdown()
        for ident, (engine, _) in list(backend_module._engines.items()):
            if private_redis.url in str(ident):
                engine.close()
                del backend_module._engines[ident]


def test_a_report_is_reused_for_a_while(settings):
    settings.MONITORING_HEALTH_CACHE_SECONDS = 60
    first = health.report()
    assert health.report() is first
    health.forget()
    assert health.report() is not first


def test_a_check_that_hangs_past_the_timeout_fails():
    def slow() -> str:
        time.sleep(0.01)
        raise health.CheckFailed("no answer within the timeout")

    report = health.evaluate({"database": slow, "disk": health.check_disk})
    assert report.status == health.UNHEALTHY and report.failed == ["database"]
