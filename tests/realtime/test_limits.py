from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from realtime import presence
from realtime.limits import FloodGuard, TokenBucket
from tests.conftest import open_sockets, receive_type
from tests.realtime.conftest import next_event, send_raw

pytestmark = pytest.mark.django_db(transaction=True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.take() == 0.0
    clock.now += 10  # refills to the burst, not beyond
    assert [bucket.take() == 0.0 for _ in range(4)] == [True, True, True, False]


def test_flood_guard_trips_only_within_the_window():
    clock = FakeClock()
    guard = FloodGuard(strikes=3, window=10, clock=clock)
    assert [guard.strike(), guard.strike()] == [False, False]
    clock.now += 11
    assert [guard.strike(), guard.strike(), guard.strike()] == [False, False, True]


async def test_a_frame_over_the_size_limit_is_an_error_and_the_socket_stays_open(owner, settings):
    settings.REALTIME_MAX_FRAME_BYTES = 1000
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await send_raw(socket, '{"type": "ping", "pad": "' + "é" * 500 + '"}')  # >1000 bytes, <1000 chars
        error = await receive_type(socket, "error")
        assert error["code"] == "too_large" and error["max_bytes"] == 1000
        await socket.send_json_to({"type": "ping", "pad": "x" * 900})
        await receive_type(socket, "pong")


async def test_the_default_frame_limit_is_64_kib(owner):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await socket.send_json_to({"type": "ping", "pad": "x" * (64 * 1024)})
        assert (await receive_type(socket, "error"))["code"] == "too_large"


async def test_frames_past_the_burst_are_rate_limited_with_retry_after(owner, settings):
    settings.REALTIME_RATE_PER_SECOND = 5
    settings.REALTIME_RATE_BURST = 3
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        for _ in range(4):
            await socket.send_json_to({"type": "ping"})
        events = [await next_event(socket) for _ in range(4)]
        assert [e["type"] for e in events] == ["pong", "pong", "pong", "error"]
        assert events[3]["code"] == "rate_limited" and 0 < events[3]["retry_after"] <= 0.2
        await asyncio.sleep(events[3]["retry_after"] + 0.05)
        await socket.send_json_to({"type": "ping"})
        await receive_type(socket, "pong")


async def test_a_client_that_keeps_flooding_is_closed_with_the_flood_code(owner, settings):
    settings.REALTIME_RATE_PER_SECOND = 1
    settings.REALTIME_RATE_BURST = 2
    settings.REALTIME_FLOOD_STRIKES = 5
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        for _ in range(2 + 5):
            await socket.send_json_to({"type": "ping"})
        outputs = [await socket.receive_output(timeout=5) for _ in range(2 + 4 + 1)]
        texts = [o for o in outputs if o["type"] == "websocket.send"]
        assert len(texts) == 2 + 4  # two pongs, four errors; the fifth strike closes
        assert outputs[-1] == {"type": "websocket.close", "code": 4429}
        await socket.disconnect()
        stats = await sync_to_async(presence.stats)()  # the closed socket left no presence behind
        assert (stats["connections"], stats["rate_limited"]) == (0, 5)
