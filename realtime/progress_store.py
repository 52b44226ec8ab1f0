"""The latest `progress` event of each job, kept in Redis so a client that connects
mid-job can ask for it (the `progress` client frame; see docs/realtime.md).

Per job a string key with a TTL; per user a sorted set of task ids scored by last
update, trimmed to the same TTL, so "all my jobs" needs no key scan.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings

from realtime.redis_client import async_client, decoded_members, key, sync_client


def _job_key(user_id: int, task_id: str) -> str:
    return key("progress", user_id, task_id)


def _index_key(user_id: int) -> str:
    return key("progress", user_id)


def save(*, user_id: int, payload: dict[str, Any]) -> None:
    ttl = int(settings.REALTIME_PROGRESS_TTL)
    now = time.time()
    with sync_client().pipeline(transaction=False) as pipe:
        pipe.set(_job_key(user_id, payload["task_id"]), json.dumps(payload), ex=ttl)
        pipe.zadd(_index_key(user_id), {payload["task_id"]: now})
        pipe.zremrangebyscore(_index_key(user_id), "-inf", now - ttl)
        pipe.expire(_index_key(user_id), ttl)
        pipe.execute()


async def get(*, user_id: int, task_id: str) -> dict[str, Any] | None:
    raw = await async_client().get(_job_key(user_id, task_id))
    return json.loads(raw) if raw else None


async def latest(*, user_id: int) -> list[dict[str, Any]]:
    """The user's jobs still kept, least recently updated first."""
    client = async_client()
    await client.zremrangebyscore(_index_key(user_id), "-inf", time.time() - int(settings.REALTIME_PROGRESS_TTL))
    task_ids = decoded_members(await client.zrange(_index_key(user_id), 0, -1))
    if not task_ids:
        return []
    raws = await client.mget([_job_key(user_id, task_id) for task_id in task_ids])
    return [json.loads(raw) for raw in raws if raw]
