"""Who is connected, and to which rooms, across every server process.

Channels groups cannot be listed, so each connection registers itself in Redis:
sorted sets whose scores are expiry times (`conns`, `room:<name>`, `rooms`, and
`user:<id>`, which counts a user's sockets for the per-user cap). The
connection's heartbeat pushes its expiry forward; a process that dies stops doing
so and its entries fall out at the next read: no ghosts, no cleanup job.

Counters (frames in/out, errors) are added up per connection and flushed with the
heartbeat, so the hot path never waits on Redis.
"""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings

from realtime.redis_client import async_client, decoded_members, key, sync_client

COUNTER_NAMES = ("messages_in", "messages_out", "errors", "rate_limited", "chat_messages", "connections_total")


@cache
def server_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}".replace("|", "-")


@dataclass
class Registration:
    """One connection's presence: its member id and what it has not flushed yet."""

    user_id: int
    connection_id: str
    server: str = field(default_factory=server_id)
    rooms: set[str] = field(default_factory=set)
    counters: Counter[str] = field(default_factory=Counter)

    @property
    def member(self) -> str:
        return f"{self.user_id}|{self.server}|{self.connection_id}"


def _expiry() -> float:
    return time.time() + float(settings.REALTIME_PRESENCE_TTL)


def _write(pipe: Any, reg: Registration) -> None:
    expires = _expiry()
    ttl = int(settings.REALTIME_PRESENCE_TTL) + 1
    pipe.zadd(key("conns"), {reg.member: expires})
    pipe.zadd(key("user", reg.user_id), {reg.member: expires})
    pipe.expire(key("user", reg.user_id), ttl)
    for room in reg.rooms:
        pipe.zadd(key("room", room), {reg.member: expires})
        pipe.expire(key("room", room), ttl)
        pipe.zadd(key("rooms"), {room: expires})
    _flush_counters(pipe, reg)


def _flush_counters(pipe: Any, reg: Registration) -> None:
    for name, delta in reg.counters.items():
        if delta:
            pipe.hincrby(key("counters"), name, delta)
    reg.counters.clear()


async def register(reg: Registration) -> int:
    """Register the connection; returns how many live sockets its user has, this one included."""
    reg.counters["connections_total"] += 1
    async with async_client().pipeline(transaction=False) as pipe:
        _write(pipe, reg)
        pipe.zremrangebyscore(key("user", reg.user_id), "-inf", time.time())
        pipe.zcard(key("user", reg.user_id))
        replies = await pipe.execute()
    return int(replies[-1])


async def refresh(reg: Registration) -> None:
    """The heartbeat: push this connection's expiry forward and flush its counters."""
    async with async_client().pipeline(transaction=False) as pipe:
        _write(pipe, reg)
        await pipe.execute()


async def join(reg: Registration, room: str) -> None:
    reg.rooms.add(room)
    await refresh(reg)


async def leave(reg: Registration, room: str) -> None:
    reg.rooms.discard(room)
    await async_client().zrem(key("room", room), reg.member)


async def unregister(reg: Registration) -> None:
    async with async_client().pipeline(transaction=False) as pipe:
        pipe.zrem(key("conns"), reg.member)
        pipe.zrem(key("user", reg.user_id), reg.member)
        for room in reg.rooms:
            pipe.zrem(key("room", room), reg.member)
        _flush_counters(pipe, reg)
        await pipe.execute()
    reg.rooms.clear()


def _user_of(member: str) -> str:
    return member.split("|", 1)[0]


def _server_of(member: str) -> str:
    return member.split("|")[1]


def connected_user_ids() -> set[int]:
    """Ids of the users with an open socket on any server (monitoring counts them as active)."""
    client = sync_client()
    members = decoded_members(client.zrangebyscore(key("conns"), time.time(), "+inf"))
    return {int(user) for user in (_user_of(m) for m in members) if user.isdigit()}


def rooms() -> list[dict[str, Any]]:
    """Rooms with live members, busiest first: name, distinct users, connections."""
    client = sync_client()
    now = time.time()
    client.zremrangebyscore(key("rooms"), "-inf", now)
    names = decoded_members(client.zrange(key("rooms"), 0, -1))
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.zremrangebyscore(key("room", name), "-inf", now)
            pipe.zrange(key("room", name), 0, -1)
        replies = pipe.execute()
    result = []
    for name, members in zip(names, replies[1::2], strict=True):
        if members:
            result.append({"name": name, "members": len({_user_of(m) for m in members}), "connections": len(members)})
        else:
            client.zrem(key("rooms"), name)
    return sorted(result, key=lambda room: (-room["members"], room["name"]))


def stats() -> dict[str, Any]:
    client = sync_client()
    client.zremrangebyscore(key("conns"), "-inf", time.time())
    members = decoded_members(client.zrange(key("conns"), 0, -1))
    counters = client.hgetall(key("counters"))
    servers = Counter(_server_of(m) for m in members)
    return {
        "connections": len(members),
        "users": len({_user_of(m) for m in members}),
        "rooms": len(rooms()),
        **{name: int(counters.get(name, 0)) for name in COUNTER_NAMES},
        "servers": [{"server": s, "connections": n} for s, n in sorted(servers.items())],
    }
