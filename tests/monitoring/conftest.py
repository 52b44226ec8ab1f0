"""Monitoring fixtures: clean shared state (Redis keys, the process recorder, the health report)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cache.conftest import private_redis  # noqa: F401 (a redis-server of our own, to stop)
from tests.conftest import api_client_for, make_user


def _delete_monitoring_keys(url: str) -> None:
    from monitoring.redis_store import _client_for, key

    client = _client_for(url)
    batch = list(client.scan_iter(match=key("*"), count=500))
    if batch:
        client.delete(*batch)


@pytest.fixture(autouse=True)
def clean_monitoring_state() -> Iterator[None]:
    from django.conf import settings

    from monitoring import health
    from monitoring.recorder import recorder

    url = settings.REDIS.redis_py  # tests may point settings at a dead Redis meanwhile
    _delete_monitoring_keys(url)
    recorder().aggregator.discard()
    recorder().collecting = True
    recorder().background = False  # this process's counts reach Redis when a test flushes, not before
    health.forget()
    yield
    recorder().background = True
    recorder().aggregator.discard()
    recorder().collecting = True
    health.forget()
    _delete_monitoring_keys(url)


@pytest.fixture
def fake_clock_collection(monkeypatch) -> None:
    """Consecutive collections driven by a fake clock: the real-time per-host slot would refuse them."""
    from monitoring import services

    monkeypatch.setattr(services, "_collect_slot", lambda hostname: True)


@pytest.fixture
def flush() -> Any:
    """Send this process's counts to Redis now, as the flush thread would."""
    from monitoring.recorder import recorder

    def run() -> None:
        assert recorder().flush()

    return run


@pytest.fixture
def staff_user(db) -> Any:
    return make_user("monitor-staff", staff=True)


@pytest.fixture
def staff_api(staff_user) -> Any:
    return api_client_for(staff_user)
