"""The one Redis client factory: pools wait for a connection instead of failing when full, and a
pooled connection that a Redis restart broke is healed by the retry (no error for the caller)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from tecnocursos.lib import redis_clients
from tecnocursos.lib.redis_clients import RedisOptions
from tests.cache.conftest import PrivateRedis


@pytest.fixture
def private() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    yield server
    server.stop()


def test_a_full_sync_pool_waits_for_a_connection_instead_of_failing(private):
    client = redis_clients.new_sync_client(private.url, options=RedisOptions(max_connections=1, pool_timeout=10))
    held = client.connection_pool.get_connection()
    released = threading.Timer(0.2, client.connection_pool.release, args=(held,))
    released.start()
    assert client.ping() is True  # waited for the one connection to come back
    released.join()
    client.close()


def test_a_full_sync_pool_gives_up_after_its_timeout_with_a_connection_error(private):
    client = redis_clients.new_sync_client(private.url, options=RedisOptions(max_connections=1, pool_timeout=0.1))
    held = client.connection_pool.get_connection()
    with pytest.raises(redis_clients.REDIS_DOWN):
        client.ping()
    client.connection_pool.release(held)
    client.close()


async def test_a_burst_on_a_small_async_pool_is_served_in_full(private, settings):
    settings.REDIS_OPTIONS = RedisOptions(max_connections=4, pool_timeout=10)
    client = redis_clients.async_client(private.url)
    try:
        replies = await asyncio.gather(*(client.incr("burst") for _ in range(500)))
        assert sorted(replies) == list(range(1, 501))
    finally:
        await redis_clients.close_async_clients()


def test_the_first_command_after_a_restart_works_on_a_pooled_connection(private):
    client = redis_clients.new_sync_client(private.url)
    assert client.set("k", "v")
    private.stop()
    private.start()  # the pooled connection is now stale
    assert client.get("k") is None  # the restart lost the key; the command itself did not fail
    client.close()


async def test_the_first_async_command_after_a_restart_works(private, settings):
    settings.REDIS_OPTIONS = RedisOptions()
    client = redis_clients.async_client(private.url)
    try:
        assert await client.set("k", "v")
        private.stop()
        private.start()
        assert await client.get("k") is None
    finally:
        await redis_clients.close_async_clients()


