"""Connection storms: hundreds of sockets opening, then closing, at once (the 2,000 form is
bench/realtime_faults_bench.py). Every Redis client waits for a pooled connection instead of
failing ("Too many connections"), so no handshake is dropped and presence is exact after."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from realtime import presence
from tests.conftest import make_user, open_sockets, receive_type, ws_communicator

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS = 300
PER_USER = 15  # under the per-user cap: the cap must not misfire in a storm either


@pytest.fixture
def small_pool(settings):
    # A pool far smaller than the storm: before the factory, the pool failed at once when full.
    settings.REDIS_OPTIONS = replace(django_settings.REDIS_OPTIONS, max_connections=8, pool_timeout=20.0)


async def test_a_storm_of_opens_and_closes_drops_no_handshake_and_leaves_no_phantom(small_pool):
    users = await sync_to_async(lambda: [make_user(f"storm{n}") for n in range(SOCKETS // PER_USER)])()
    async with open_sockets() as sockets:
        communicators = [sockets.add(await ws_communicator("/ws/connect", users[n % len(users)]))
                         for n in range(SOCKETS)]
        outcomes = await asyncio.gather(*(c.connect(timeout=30) for c in communicators))
        assert [connected for connected, _ in outcomes] == [True] * SOCKETS
        await asyncio.gather(*(receive_type(c, "connection", timeout=30) for c in communicators))
        stats = await sync_to_async(presence.stats)()
        assert (stats["connections"], stats["users"]) == (SOCKETS, len(users))

        await asyncio.gather(*(c.disconnect(timeout=30) for c in communicators))
    stats = await sync_to_async(presence.stats)()
    assert (stats["connections"], stats["users"]) == (0, 0)
