"""A user with an open WebSocket and no HTTP requests is active too: the collector marks the users
with open sockets once per sample (in Redis), and the rollup turns them into active-user days."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async

from monitoring import services
from monitoring.models import ActiveUserDay
from realtime import presence
from tests.conftest import open_sockets
from tests.monitoring.fakes import FakeMachine
from tests.realtime.conftest import _close_async_redis, clean_realtime_state  # noqa: F401 (autouse)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_user_with_an_open_socket_counts_as_active_without_requests(owner, member):
    async with open_sockets() as sockets:
        await sockets.connect("/ws/connect", owner)
        await sockets.connect("/ws/room/lobby", owner)
        assert await sync_to_async(presence.connected_user_ids)() == {owner.id}
        machine = FakeMachine(at=time.time())
        await sync_to_async(services.snapshot_collect)(host="h1", reader=machine.read, force=True)
    assert await sync_to_async(presence.connected_user_ids)() == set()
    await sync_to_async(services.requests_rollup)(now=time.time() + 600)
    days = [(day.user_id, day.requests) async for day in ActiveUserDay.objects.all()]
    assert days == [(owner.id, 0)]


async def test_requests_and_a_socket_in_the_same_minute_add_up_once(owner):
    from monitoring import redis_store
    from monitoring.aggregator import Aggregator, minute_of

    now = time.time()
    aggregator = Aggregator(clock=lambda: now)
    aggregator.record_request("GET", "course-list", 200, 0.01, 0, owner.id)
    aggregator.record_request("GET", "course-list", 200, 0.01, 0, owner.id)
    await sync_to_async(redis_store.flush)(aggregator.drain(), server="test")
    await sync_to_async(redis_store.mark_seen)(minute_of(now), [owner.id])
    await sync_to_async(redis_store.mark_seen)(minute_of(now), [owner.id])  # the next sample: idempotent
    await sync_to_async(services.requests_rollup)(now=now + 600)
    day = await ActiveUserDay.objects.aget(user=owner)
    assert day.requests == 2
