"""The project's fan-out (settings.CHANNEL_LAYERS + realtime.fanout) on the real Redis.

Two layer instances stand for two daphne processes: a group message reaches each member
exactly once in every process, a discarded member gets nothing more, and groups do not
leak into each other. Timings live in bench/fanout_bench.py, not here.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils.module_loading import import_string

from tecnocursos.core.channels_dispatch import FanoutDispatchMixin
from tests.conftest import open_sockets


def process_layer() -> Any:
    """A fresh layer as one daphne process would build it from settings."""
    config = settings.CHANNEL_LAYERS["default"]
    return import_string(config["BACKEND"])(**config.get("CONFIG", {}))


def group_name() -> str:
    return f"fanout-test.{uuid.uuid4().hex[:12]}"  # never shared with another run


async def arrived(*inboxes: Inbox, timeout: float = 5) -> None:
    """Until every inbox holds a message (or the timeout), then a moment for late duplicates."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not all(inbox.got for inbox in inboxes) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)


async def drain(layer: Any, channel: str, timeout: float = 0.3) -> list[dict[str, Any]]:
    """Every message waiting on `channel` (stops after `timeout` of silence)."""
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(layer.receive(channel), timeout))
        except TimeoutError:
            return got


@pytest.fixture
async def two_processes() -> Any:
    layers = [process_layer(), process_layer()]
    yield layers
    for layer in layers:
        await layer.flush()


async def test_group_send_reaches_every_member_exactly_once_across_processes(two_processes):
    a, b = two_processes
    group = group_name()
    members = [(layer, await layer.new_channel()) for layer in (a, b) for _ in range(3)]
    for layer, channel in members:
        await layer.group_add(group, channel)

    await a.group_send(group, {"type": "push", "event": {"n": 1}})
    await b.group_send(group, {"type": "push", "event": {"n": 2}})

    for layer, channel in members:
        got = await drain(layer, channel)
        assert sorted(m["event"]["n"] for m in got) == [1, 2], channel
        assert all(m["type"] == "push" for m in got)


async def test_group_discard_stops_delivery_to_that_member_only(two_processes):
    a, b = two_processes
    group = group_name()
    stays, leaves = await a.new_channel(), await b.new_channel()
    await a.group_add(group, stays)
    await b.group_add(group, leaves)
    await b.group_discard(group, leaves)

    await a.group_send(group, {"type": "push", "event": {"n": 1}})

    assert [m["event"]["n"] for m in await drain(a, stays)] == [1]
    assert await drain(b, leaves) == []


async def test_discarding_one_member_keeps_the_others_of_the_same_process(two_processes):
    a, _ = two_processes
    group = group_name()
    first, second = await a.new_channel(), await a.new_channel()
    await a.group_add(group, first)
    await a.group_add(group, second)
    await a.group_discard(group, first)

    await a.group_send(group, {"type": "push", "event": {"n": 1}})

    assert [m["event"]["n"] for m in await drain(a, second)] == [1]
    assert await drain(a, first) == []


async def test_no_message_leaks_into_another_group(two_processes):
    a, b = two_processes
    room, other = group_name(), group_name()
    in_room, in_other = await a.new_channel(), await b.new_channel()
    await a.group_add(room, in_room)
    await b.group_add(other, in_other)

    await b.group_send(room, {"type": "push", "event": {"n": 1}})

    assert [m["event"]["n"] for m in await drain(a, in_room)] == [1]
    assert await drain(b, in_other) == []


async def test_a_member_of_two_groups_gets_each_groups_messages(two_processes):
    a, b = two_processes
    user_group, room_group = group_name(), group_name()
    channel = await a.new_channel()
    await a.group_add(user_group, channel)
    await a.group_add(room_group, channel)

    await b.group_send(user_group, {"type": "push", "event": {"n": 1}})
    await b.group_send(room_group, {"type": "push", "event": {"n": 2}})

    assert sorted(m["event"]["n"] for m in await drain(a, channel)) == [1, 2]


async def test_messages_of_one_sender_arrive_in_order(two_processes):
    a, b = two_processes
    group = group_name()
    channel = await b.new_channel()
    await b.group_add(group, channel)

    for n in range(50):
        await a.group_send(group, {"type": "push", "event": {"n": n}})

    assert [m["event"]["n"] for m in await drain(b, channel)] == list(range(50))


# --- direct local delivery (FanoutChannelLayer.attach_direct) ---------------------------------


def needs_direct(layer: Any) -> None:
    if not hasattr(type(layer), "_get_layer") or not hasattr(layer._get_layer(), "attach_direct"):
        pytest.skip("the configured layer has no direct delivery")


class Inbox:
    def __init__(self, accept: bool = True) -> None:
        self.got: list[dict[str, Any]] = []
        self.accept = accept

    async def __call__(self, message: dict[str, Any]) -> bool:
        if self.accept:
            self.got.append(message)
        return self.accept


async def test_attached_members_get_each_group_message_once_by_callback(two_processes):
    a, b = two_processes
    needs_direct(a)
    group = group_name()
    inboxes = []
    for layer in (a, b, b):
        channel, inbox = await layer.new_channel(), Inbox()
        await layer.attach_direct(channel, {"push"}, inbox)
        await layer.group_add(group, channel)
        inboxes.append((layer, channel, inbox))

    await a.group_send(group, {"type": "push", "event": {"n": 1}})
    await arrived(*(inbox for _, _, inbox in inboxes))

    for layer, channel, inbox in inboxes:
        assert [m["event"]["n"] for m in inbox.got] == [1]
        assert await drain(layer, channel, timeout=0.1) == []  # not also through the queue


async def test_types_not_attached_still_arrive_through_the_queue(two_processes):
    a, b = two_processes
    needs_direct(a)
    group = group_name()
    channel, inbox = await b.new_channel(), Inbox()
    await b.attach_direct(channel, {"push"}, inbox)
    await b.group_add(group, channel)

    await a.group_send(group, {"type": "chat.other", "n": 2})

    assert [m["n"] for m in await drain(b, channel)] == [2]
    assert inbox.got == []


async def test_detached_and_discarded_members_get_nothing_more(two_processes):
    a, b = two_processes
    needs_direct(a)
    group = group_name()
    detached, discarded, stays = Inbox(), Inbox(), Inbox()
    channels = {}
    for name, inbox in (("detached", detached), ("discarded", discarded), ("stays", stays)):
        channels[name] = await b.new_channel()
        await b.attach_direct(channels[name], {"push"}, inbox)
        await b.group_add(group, channels[name])
    b.detach_direct(channels["detached"])
    await b.group_discard(group, channels["discarded"])

    await a.group_send(group, {"type": "push", "event": {"n": 3}})
    await arrived(stays)

    assert [m["event"]["n"] for m in stays.got] == [3]
    assert discarded.got == []
    assert detached.got == []
    assert [m["event"]["n"] for m in await drain(b, channels["detached"])] == [3]  # back to its queue


async def test_a_declined_message_waits_in_the_queue_and_later_ones_do_not_overtake_it(two_processes):
    a, b = two_processes
    needs_direct(a)
    group = group_name()
    channel, inbox = await b.new_channel(), Inbox(accept=False)  # like a consumer still in connect()
    await b.attach_direct(channel, {"push"}, inbox)
    await b.group_add(group, channel)

    await a.group_send(group, {"type": "push", "event": {"n": 1}})
    await asyncio.sleep(0.2)
    inbox.accept = True  # connect() done; n=1 is still queued
    await a.group_send(group, {"type": "push", "event": {"n": 2}})
    await asyncio.sleep(0.2)

    assert inbox.got == []  # n=2 went behind n=1 instead of around it
    assert [m["event"]["n"] for m in await drain(b, channel)] == [1, 2]


async def test_direct_delivery_resumes_once_the_queue_is_drained(two_processes):
    a, b = two_processes
    needs_direct(a)
    group = group_name()
    channel, inbox = await b.new_channel(), Inbox(accept=False)
    await b.attach_direct(channel, {"push"}, inbox)
    await b.group_add(group, channel)
    await a.group_send(group, {"type": "push", "event": {"n": 1}})
    assert [m["event"]["n"] for m in [await asyncio.wait_for(b.receive(channel), 2)]] == [1]

    inbox.accept = True
    await a.group_send(group, {"type": "push", "event": {"n": 2}})
    await arrived(inbox)

    assert [m["event"]["n"] for m in inbox.got] == [2]


async def test_a_failing_callback_does_not_stop_the_others(two_processes):
    a, b = two_processes
    needs_direct(a)
    group = group_name()

    async def broken(message: dict[str, Any]) -> bool:
        raise RuntimeError("socket gone")

    good = Inbox()
    for callback in (broken, good):
        channel = await b.new_channel()
        await b.attach_direct(channel, {"push"}, callback)
        await b.group_add(group, channel)

    await a.group_send(group, {"type": "push", "event": {"n": 4}})
    await arrived(good)

    assert [m["event"]["n"] for m in good.got] == [4]


async def test_a_socket_that_stops_reading_keeps_only_the_newest_messages(two_processes):
    a, b = two_processes
    capacity = getattr(b, "capacity", None)
    if capacity is None:
        pytest.skip("the configured layer has no capacity")
    group = group_name()
    channel = await b.new_channel()
    await b.group_add(group, channel)

    for n in range(capacity + 5):
        await a.group_send(group, {"type": "push", "event": {"n": n}})
    await asyncio.sleep(0.5)

    got = [m["event"]["n"] for m in await drain(b, channel)]
    assert got == list(range(5, capacity + 5))


async def test_a_process_resubscribes_after_its_redis_connection_drops(two_processes):
    import redis

    a, b = two_processes
    needs_direct(a)
    group = group_name()
    channel = await b.new_channel()
    await b.group_add(group, channel)
    # Kill only this layer's own subscriber connection (other clients of the Redis are left alone).
    sockname = b._get_layer()._shards[0]._pubsub.connection._writer.get_extra_info("sockname")
    if not isinstance(sockname, tuple):
        pytest.skip("finding our own connection by its port needs Redis over TCP")
    port = sockname[1]
    admin = redis.Redis.from_url(settings.REDIS_URL)
    try:
        mine = [c["id"] for c in admin.client_list() if c["addr"].endswith(f":{port}")]
        assert mine
        admin.client_kill_filter(_id=mine[0])
    finally:
        admin.close()
    # The receiver logs the drop, reconnects and subscribes again; pub/sub is at-most-once, so
    # a message sent before it is back is lost: send until one arrives (or 15 s). One receive
    # waits throughout: a cancelled receive unsubscribes its channel (channels_redis).
    receiving = asyncio.ensure_future(b.receive(channel))
    for attempt in range(30):
        await a.group_send(group, {"type": "push", "event": {"n": attempt}})
        if (await asyncio.wait({receiving}, timeout=0.5))[0]:
            break
    else:
        receiving.cancel()

    assert receiving.result()["event"]["n"] in range(30)


# --- the consumer fast path ------------------------------------------------------------------


class Counting(FanoutDispatchMixin):
    """Stands in for a Channels consumer: records which path served each message."""

    def __init__(self) -> None:
        self.pushed: list[dict[str, Any]] = []
        self.slow: list[str] = []

    async def push(self, message: dict[str, Any]) -> None:
        self.pushed.append(message["event"])


class Base:
    async def dispatch(self, message: dict[str, Any]) -> None:
        self.slow.append(message["type"])  # type: ignore[attr-defined]


class Consumer(Counting, Base):
    pass


async def test_socket_only_events_skip_the_default_dispatch():
    consumer = Consumer()
    await consumer.dispatch({"type": "push", "event": {"n": 1}})
    await consumer.dispatch({"type": "websocket.receive", "text": "{}"})

    assert consumer.pushed == [{"n": 1}]
    assert consumer.slow == ["websocket.receive"]  # frames keep Channels' DB-connection cleanup


# Channels' dispatch closes stale DB connections of its sync thread (one an earlier test left there).
@pytest.mark.django_db(transaction=True)
async def test_a_push_reaches_a_socket_through_a_fast_consumer():
    from channels.generic.websocket import AsyncJsonWebsocketConsumer

    class FastSocket(FanoutDispatchMixin, AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            await self.channel_layer.group_add("fanout-fast-test", self.channel_name)
            await self.accept()

        async def push(self, message: dict[str, Any]) -> None:
            await self.send_json(message["event"])

    async with open_sockets() as sockets:
        communicator = sockets.add(WebsocketCommunicator(FastSocket.as_asgi(), "/ws/test"))
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        await get_channel_layer().group_send("fanout-fast-test", {"type": "push", "event": {"type": "x", "n": 7}})
        assert await communicator.receive_json_from(timeout=5) == {"type": "x", "n": 7}


async def test_a_receive_cancelled_twice_still_unsubscribes_its_channel(two_processes):
    import redis

    _, b = two_processes
    channel = await b.new_channel()
    loop_layer = b._get_layer()
    shard = loop_layer._get_shard(channel)
    admin = redis.Redis.from_url(settings.REDIS_URL)
    try:
        assert admin.pubsub_numsub(channel) == [(channel.encode(), 1)]
        # A socket closing while others close: its receive is cancelled, and cancelled again
        # while the clean-up waits for the shard's lock (held here by another unsubscribe).
        await shard._lock.acquire()
        receiving = asyncio.ensure_future(b.receive(channel))
        await asyncio.sleep(0.05)
        receiving.cancel()
        await asyncio.sleep(0.05)
        receiving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await receiving
        shard._lock.release()
        for _ in range(50):
            if admin.pubsub_numsub(channel) == [(channel.encode(), 0)]:
                break
            await asyncio.sleep(0.05)
        assert admin.pubsub_numsub(channel) == [(channel.encode(), 0)]
        assert channel not in loop_layer.channels
    finally:
        admin.close()
