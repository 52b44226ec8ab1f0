"""Redis clients for realtime state that every server process shares (presence, progress).

Straight Redis, not Django's cache: the cache may keep per-process copies, and this
state must be the same for every daphne process and Celery worker.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from functools import cache
from typing import cast

import redis
import redis.asyncio as aioredis
from django.conf import settings

# redis.asyncio connections belong to the event loop that opened them: one client per loop.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def key(*parts: object) -> str:
    return ":".join([settings.REDIS_PREFIX, "rt", *(str(p) for p in parts)])


@cache
def sync_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS.redis_py, decode_responses=True)


def async_client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(settings.REDIS.redis_py, decode_responses=True)
        _async_clients[loop] = client
    return client


def decoded_members(reply: Sequence[object]) -> list[str]:
    """A sorted set's members as these clients return them: they decode responses, so str
    (redis-py annotates replies for every client mode: bytes, str or (member, score))."""
    return cast("list[str]", reply)


async def close_async_client() -> None:
    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
