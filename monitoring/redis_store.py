"""Monitoring's shared state in Redis: what every process adds to and reads.

Keys, under `<REDIS_PREFIX>:mon:`:
  control         hash: collecting (1/0), changed_at, changed_by — the pause switch
  totals          hash: all-time request and task counts (aggregator fields) -> /metrics
  m:<minute>      hash: the counts of one minute, until the rollup task claims it
  minutes         sorted set of minutes with a pending hash
  claim:<...>     a minute hash being rolled up (renamed, so late flushes start a new one)
  claims          sorted set of claims, to finish those whose rollup died half-way
  ws:total        hash: WebSocket events (closes by code, refusals, errors by code)
  ws:srv:<id>     the same per server process (expires when the process stops flushing)
  workers         hash: Celery worker hostname -> last heartbeat (UNIX time)
  qs:<day>        hash: statements requests repeated (N+1), per route and shape (aggregator.py)
  qsql            hash: shape key -> the statement's shape
  chq:<server>    a server process's WebSocket channel queue summary (channel_queues.py)
Straight Redis, not the cache: the cache keeps per-process copies; this must be shared.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from functools import cache
from typing import Any, cast

import redis
from django.conf import settings

from monitoring.aggregator import Batch
from tecnocursos.lib import redis_clients

# An unclaimed minute survives a rollup outage this long (then it expires).
MINUTE_KEY_TTL = 2 * 24 * 3600
SERVER_KEY_TTL = 24 * 3600
REPEAT_KEY_TTL = 3 * 24 * 3600


def key(*parts: object) -> str:
    return ":".join([settings.REDIS_PREFIX, "mon", *(str(p) for p in parts)])


@cache
def _client_for(url: str) -> redis.Redis:
    # Short timeouts: health checks and flushes must fail fast, never hang a request thread.
    return redis_clients.new_sync_client(url, decode_responses=True, socket_timeout=2.0)


def client() -> redis.Redis:
    return _client_for(settings.REDIS.redis_py)


def _hash(name: str) -> dict[str, str]:
    # decode_responses=True: keys and values are str, whatever the stubs say.
    return cast(dict[str, str], client().hgetall(name))


# --- the pause switch ------------------------------------------------------------------


def collecting() -> bool:
    """True unless an operator paused collection. Raises redis.RedisError when Redis is down."""
    return client().hget(key("control"), "collecting") != "0"


def control_state() -> dict[str, Any]:
    state = _hash(key("control"))
    changed_at = state.get("changed_at")
    return {
        "collecting": state.get("collecting") != "0",
        "changed_at": float(changed_at) if changed_at else None,
        "changed_by": state.get("changed_by") or None,
    }


def set_collecting(value: bool, *, by: str) -> dict[str, Any]:
    client().hset(key("control"), mapping={"collecting": "1" if value else "0", "changed_at": time.time(),
                                           "changed_by": by})
    return control_state()


# --- counts: flush and totals --------------------------------------------------------------


def flush(batch: Batch, *, server: str) -> None:
    """Add a process's batch to the shared hashes, all or nothing (MULTI/EXEC)."""
    pipe = client().pipeline(transaction=True)
    for minute, fields in batch.minute_fields().items():
        minute_key = key("m", minute)
        for name, value in fields.items():
            pipe.hincrby(minute_key, name, value)
        pipe.expire(minute_key, MINUTE_KEY_TTL)
        pipe.zadd(key("minutes"), {str(minute): minute})
    for name, value in batch.total_fields().items():
        pipe.hincrby(key("totals"), name, value)
    events = batch.event_fields()
    for name, value in events.items():
        pipe.hincrby(key("ws", "total"), name, value)
        pipe.hincrby(key("ws", "srv", server), name, value)
    if events:
        pipe.expire(key("ws", "srv", server), SERVER_KEY_TTL)
    for day, fields in batch.repeat_fields().items():
        for name, value in fields.items():
            pipe.hincrby(key("qs", day), name, value)
        pipe.expire(key("qs", day), REPEAT_KEY_TTL)
    for shape_key, shape in batch.shapes.items():
        pipe.hset(key("qsql"), shape_key, shape)
    if batch.shapes:
        pipe.expire(key("qsql"), REPEAT_KEY_TTL)
    pipe.execute()


def repeated_queries(*, days: int, now: float | None = None) -> tuple[dict[str, int], dict[str, str]]:
    """The N+1 counts of the last `days` days (METHOD|ROUTE|KEY|r/x -> sum), and the shapes."""
    today = int((time.time() if now is None else now) // 86400)
    merged: dict[str, int] = {}
    for day in range(today - days + 1, today + 1):
        for name, value in _hash(key("qs", day)).items():
            merged[name] = merged.get(name, 0) + int(value)
    return merged, _hash(key("qsql"))


def totals() -> dict[str, str]:
    return _hash(key("totals"))


def mark_seen(minute: int, user_ids: Iterable[int]) -> None:
    """Users with an open WebSocket in this minute: `s|<id>` in its hash (set, not added: idempotent)."""
    fields: dict[Any, Any] = {f"s|{user_id}": 1 for user_id in user_ids}
    if not fields:
        return
    pipe = client().pipeline(transaction=True)
    pipe.hset(key("m", minute), mapping=fields)
    pipe.expire(key("m", minute), MINUTE_KEY_TTL)
    pipe.zadd(key("minutes"), {str(minute): minute})
    pipe.execute()


def pending_minute(minute: int) -> dict[str, str]:
    """The not yet rolled-up counts of one minute (for live views)."""
    return _hash(key("m", minute))


def pending_minutes(start: float, end: float) -> list[int]:
    """The minutes in [start, end) with counts not rolled up yet (the current one among them)."""
    return [int(cast(str, m)) for m in client().zrangebyscore(key("minutes"), start, f"({end}")]


def websocket_events() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(totals, per server) of the WebSocket event counters."""
    prefix = key("ws", "srv", "")
    servers = {}
    for name in client().scan_iter(match=prefix + "*", count=200):
        servers[str(name)[len(prefix):]] = _hash(str(name))
    return _hash(key("ws", "total")), servers


# --- rollup claims ---------------------------------------------------------------------


def due_minutes(before: float) -> list[int]:
    return [int(cast(str, m)) for m in client().zrangebyscore(key("minutes"), "-inf", before)]


def claim_minute(minute: int, *, now: float | None = None) -> str | None:
    """Take a minute's hash for the rollup (a rename: later flushes start a new hash).

    None when there is nothing to take (another run took it, or it expired).
    """
    c = client()
    claim = key("claim", minute, uuid.uuid4().hex)
    # Forget the minute first: a flush landing after the rename re-adds it for the next run.
    c.zrem(key("minutes"), str(minute))
    try:
        c.rename(key("m", minute), claim)
    except redis.ResponseError:  # no such key
        return None
    c.zadd(key("claims"), {claim: time.time() if now is None else now})
    return claim


def stale_claims(older_than: float) -> list[str]:
    return [cast(str, claim) for claim in client().zrangebyscore(key("claims"), "-inf", older_than)]


def claim_read(claim: str) -> dict[str, str]:
    return _hash(claim)


def claim_done(claim: str) -> None:
    c = client()
    c.delete(claim)
    c.zrem(key("claims"), claim)


def minute_of_claim(claim: str) -> int:
    return int(claim.split(":")[-2])


def lock(name: str, seconds: int) -> str | None:
    """A best-effort lock (SET NX EX): the token to release it with, or None if held."""
    token = uuid.uuid4().hex
    return token if client().set(key("lock", name), token, nx=True, ex=seconds) else None


def unlock(name: str, token: str) -> None:
    c = client()
    if c.get(key("lock", name)) == token:
        c.delete(key("lock", name))


# --- Celery --------------------------------------------------------------------------------


def worker_heartbeat(hostname: str, *, gone: bool = False) -> None:
    if gone:
        client().hdel(key("workers"), hostname)
    else:
        client().hset(key("workers"), hostname, time.time())


def workers(*, fresh_within: float) -> dict[str, float]:
    """Workers whose heartbeat is recent; older entries are removed."""
    c = client()
    now = time.time()
    beats = {name: float(at) for name, at in _hash(key("workers")).items()}
    stale = [name for name, at in beats.items() if now - at > max(fresh_within * 10, 600)]
    if stale:
        c.hdel(key("workers"), *stale)
    return {name: at for name, at in beats.items() if now - at <= fresh_within}


def queue_lengths(queues: list[str]) -> dict[str, int]:
    """Messages waiting per Celery queue (Redis transport: a list per queue and priority)."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    names = {queue: [f"{prefix}{queue}", *(f"{prefix}{queue}\x06\x16{p}" for p in (3, 6, 9))] for queue in queues}
    pipe = client().pipeline(transaction=False)
    for keys in names.values():
        for name in keys:
            pipe.llen(name)
    replies = iter(pipe.execute())
    return {queue: sum(int(next(replies)) for _ in keys) for queue, keys in names.items()}
