"""How full the WebSocket channel queues are, in every server process.

The channel layer keeps one bounded queue per socket in the daphne process that serves it
(`capacity` messages; beyond that the oldest are dropped). Only that process can see them, so
each process's recorder thread publishes a summary to Redis at every flush (`publish`), and
readers (the alert source, bottleneck detection) collect them (`read`). A process without a
channel layer in use publishes nothing. Keys expire when their process stops publishing.
"""

from __future__ import annotations

import json
from typing import Any

from monitoring import redis_store

NEAR_CAPACITY = 0.8
KEY_TTL_SECONDS = 60


def local_stats() -> dict[str, Any] | None:
    """This process's channel queues: count, capacity, fullest fill (0-1), how many are near capacity."""
    from channels.layers import channel_layers

    backends = getattr(channel_layers, "backends", {})
    queues: list[Any] = []
    capacity = 0
    for layer in list(backends.values()):
        for loop_layer in list(getattr(layer, "_layers", {}).values()):  # pub/sub layers: one per event loop
            queues += list(getattr(loop_layer, "channels", {}).values())
        capacity = max(capacity, int(getattr(layer, "capacity", 0) or 0))
    if not queues:
        return None
    sizes = [queue.qsize() for queue in queues]
    maxsize = max([getattr(queue, "maxsize", 0) or capacity for queue in queues] + [1])
    fills = [size / maxsize for size in sizes]
    return {"channels": len(queues), "capacity": maxsize, "max_fill": round(max(fills), 4),
            "near_capacity": sum(1 for fill in fills if fill >= NEAR_CAPACITY), "queued": sum(sizes)}


def publish(server: str) -> None:
    stats = local_stats()
    if stats is None:
        return
    redis_store.client().set(redis_store.key("chq", server), json.dumps(stats), ex=KEY_TTL_SECONDS)


def read() -> dict[str, dict[str, Any]]:
    """Per server process, the latest published summary."""
    client = redis_store.client()
    prefix = redis_store.key("chq", "")
    names = [str(name) for name in client.scan_iter(match=prefix + "*", count=200)]
    values = client.mget(names) if names else []
    return {name[len(prefix):]: json.loads(value) for name, value in zip(names, values, strict=True) if value}
