"""Redis clients for realtime state that every server process shares (presence, progress).

Straight Redis, not Django's cache: the cache may keep per-process copies, and this
state must be the same for every daphne process and Celery worker. The clients come from
the project's one factory (tecnocursos/lib/redis_clients.py: blocking pools, timeouts, retry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import redis
import redis.asyncio as aioredis
from django.conf import settings

from tecnocursos.lib import redis_clients


def key(*parts: object) -> str:
    return ":".join([settings.REDIS_PREFIX, "rt", *(str(p) for p in parts)])


def sync_client() -> redis.Redis:
    return redis_clients.sync_client(decode_responses=True)


def async_client() -> aioredis.Redis:
    return redis_clients.async_client(decode_responses=True)


def decoded_members(reply: Sequence[object]) -> list[str]:
    """A sorted set's members as these clients return them: they decode responses, so str
    (redis-py annotates replies for every client mode: bytes, str or (member, score))."""
    return cast("list[str]", reply)


async def close_async_client() -> None:
    await redis_clients.close_async_clients()
