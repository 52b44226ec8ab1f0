"""Faults and abuse against a real daphne (`python -m tecnocursos.serve`, as `runstack` runs it):

* an oversize frame gets an `error` event `too_large` and a 1009 close, not a dropped TCP (1006);
* a socket that stops reading is dropped once daphne holds REALTIME_MAX_SEND_BUFFER_BYTES unsent
  for it (its presence goes with it), while a socket that reads keeps going;
* a private Redis stopped and restarted under HTTP and WebSocket traffic: the API keeps answering
  (503 where Redis is needed, 200 elsewhere, never a 500), sockets are closed with 4503 and
  reconnect, and chat missed meanwhile is recovered with `since`, with no loss and no duplicate.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.layers import get_channel_layer
from django.conf import settings

from tests.cache.conftest import PrivateRedis
from tests.conftest import free_port
from tests.realtime.test_multiprocess import (
    ROOT,
    SETUP_USERS,
    http,
    receive_type,
    server_env,
    token_for,
    wait_until_serving,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]



@dataclass
class Daphne:
    port: int
    users: dict[str, int]
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ws(self, path: str, user: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}?token={token_for(self.users[user])}"


def start_daphne(tmp_path: Path, **env: str) -> Daphne:
    full_env = {**server_env(tmp_path), **env}
    setup = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + SETUP_USERS],
                           env=full_env, cwd=ROOT, capture_output=True, timeout=120)
    assert setup.returncode == 0, setup.stderr.decode()[-2000:]
    users = json.loads(setup.stdout.decode().strip().splitlines()[-1])
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tecnocursos.serve", "-b", "127.0.0.1", "-p", str(port),
                                "tecnocursos.asgi:application"], env=full_env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_serving(port, process)
    return Daphne(port, users, process)


def stop_daphne(server: Daphne) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


@pytest.fixture
def daphne(tmp_path: Path) -> Iterator[Daphne]:
    server = start_daphne(tmp_path)
    yield server
    stop_daphne(server)


# --- oversize frames and slow readers ----------------------------------------------------------


async def test_an_oversize_frame_is_answered_with_too_large_then_closed_with_1009(daphne):
    async with websockets.connect(daphne.ws("/ws/connect", "mpalice"), open_timeout=10, compression=None,
                                  max_size=None) as ws:
        await receive_type(ws, "connection")
        await ws.send("x" * (1024 * 1024 + 1))
        error = await receive_type(ws, "error")
        assert error["code"] == "too_large" and error["max_bytes"] == 1024 * 1024
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def stats(server: Daphne) -> dict[str, Any]:
    status, body = await asyncio.to_thread(http, "GET", server.url("/ws/stats"), token_for(server.users["mpstaff"]))
    assert status == 200, body
    return body


async def test_a_slow_reader_is_dropped_and_a_reading_one_is_not(daphne):
    payload = "y" * 64 * 1024
    layer = get_channel_layer()
    # max_queue=1: the client stops reading its TCP socket as soon as one message waits unread.
    async with (
        websockets.connect(daphne.ws("/ws/connect", "mpalice"), open_timeout=10, max_queue=1,
                           compression=None, max_size=None) as slow,
        websockets.connect(daphne.ws("/ws/connect", "mpbob"), open_timeout=10, compression=None,
                           max_size=None) as reader,
    ):
        await receive_type(slow, "connection")
        await receive_type(reader, "connection")
        assert (await stats(daphne))["connections"] == 2
        got = 0

        async def read() -> None:
            nonlocal got
            while True:
                if json.loads(await reader.recv()).get("type") == "notification":
                    got += 1

        reading = asyncio.create_task(read())
        for n in range(400):  # 25 MB: far more than the kernel's buffers and the 1 MiB bound
            await layer.group_send("broadcast", {"type": "push", "event": {
                "type": "notification", "id": n, "title": "", "message": payload, "level": "info",
                "broadcast": True, "read": False, "timestamp": "2026-01-01T00:00:00+00:00"}})
            await asyncio.sleep(0.003)
        for _ in range(100):
            if (await stats(daphne))["connections"] == 1 and got == 400:
                break
            await asyncio.sleep(0.1)
        reading.cancel()
        assert got == 400  # the reader got everything
        assert (await stats(daphne))["connections"] == 1  # the slow one is gone, presence with it


# --- Redis stopped and restarted under traffic -------------------------------------------------


@dataclass
class Traffic:
    """HTTP requests in a loop on their own thread: what each path answered, in order."""

    server: Daphne
    answers: dict[str, list[int]] = field(default_factory=dict)
    health: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        token = token_for(self.server.users["mpstaff"])
        while not self.stop.is_set():
            for path in ("/ws/stats", "/ws/rooms", "/api/courses/", "/api/notifications/",
                         "/api/analytics/services/cache", "/api/analytics/system/health"):
                status, body = http("GET", self.server.url(path), token)
                self.answers.setdefault(path, []).append(status)
                if path.endswith("/health") and isinstance(body, dict):
                    self.health.append(body.get("status", ""))
            self.stop.wait(0.05)

    async def wait_for_outage(self, timeout: float) -> None:
        """Until /ws/stats has answered 503 and health has said degraded (or the timeout)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if 503 in self.answers.get("/ws/stats", []) and "degraded" in self.health:
                return
            await asyncio.sleep(0.1)


@dataclass
class ChatClient:
    """A client as docs/realtime.md tells one to behave: reconnect on 4503, join with `since`,
    resend what was not confirmed with the same `client_id`, drop ids already seen."""

    server: Daphne
    user: str
    seen: dict[int, str] = field(default_factory=dict)  # chat id -> message
    closes: list[int] = field(default_factory=list)
    ws: Any = None

    async def connect(self, timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                self.ws = await websockets.connect(self.server.ws("/ws/connect", self.user), open_timeout=5)
                await receive_type(self.ws, "connection", timeout=5)
                await self.ws.send(json.dumps({"type": "join_room", "room": "lobby",
                                               "since": max(self.seen, default=0)}))
                self.take((await receive_type(self.ws, "history"))["messages"])
                return
            except websockets.ConnectionClosed as exc:
                self.closes.append(exc.rcvd.code if exc.rcvd else 1006)
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)

    def take(self, chats: list[dict[str, Any]]) -> None:
        for chat in chats:
            assert self.seen.get(chat["id"], chat["message"]) == chat["message"]
            self.seen[chat["id"]] = chat["message"]

    async def chat(self, client_id: str) -> dict[str, Any]:
        await self.ws.send(json.dumps({"type": "chat", "room": "lobby", "message": client_id,
                                       "client_id": client_id}))
        while True:
            event = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if event["type"] == "chat":
                self.take([event])
                if event.get("client_id") == client_id:
                    return event

    async def drain(self, until_id: int) -> None:
        while max(self.seen, default=0) < until_id:
            event = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if event["type"] == "chat":
                self.take([event])

    async def closed_code(self) -> int:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(self.ws.recv(), 15)
        return closed.value.rcvd.code if closed.value.rcvd else 1006


@pytest.fixture
def daphne_on_private_redis(tmp_path: Path) -> Iterator[tuple[Daphne, PrivateRedis]]:
    redis_server = PrivateRedis()
    server = start_daphne(tmp_path, REDIS_URL=redis_server.url, REDIS_PREFIX=f"{settings.REDIS_PREFIX}fault",
                          REDIS_CONNECT_TIMEOUT="0.5", REDIS_SOCKET_TIMEOUT="1")
    yield server, redis_server
    stop_daphne(server)
    redis_server.stop()


async def test_redis_restarted_under_traffic_loses_no_chat_and_the_api_keeps_answering(daphne_on_private_redis):
    server, redis_server = daphne_on_private_redis
    traffic = Traffic(server)
    thread = threading.Thread(target=traffic.run, daemon=True)
    thread.start()
    alice, bob = ChatClient(server, "mpalice"), ChatClient(server, "mpbob")
    try:
        await alice.connect()
        await bob.connect()
        for n in range(3):
            await alice.chat(f"a-{n}")
        await bob.drain(3)

        redis_server.stop()
        assert await alice.closed_code() == 4503 and await bob.closed_code() == 4503
        # Keep Redis down until the traffic has seen the outage: a round of six requests can
        # take seconds while Redis times out, so a fixed sleep may end before /ws/stats is asked.
        await traffic.wait_for_outage(timeout=60)
        redis_server.start()

        await alice.connect()  # the first join after Redis returns works
        for n in range(3, 6):  # bob is away: he recovers these with `since`
            await alice.chat(f"a-{n}")
        assert (await alice.chat("a-5"))["duplicate"] is True  # a retry of an unconfirmed frame
        await bob.connect()
        await alice.chat("a-6")
        await bob.drain(7)
        for _ in range(300):  # requests during the outage are slower: let a round after it finish
            if traffic.answers["/ws/stats"][-1] == 200:
                break
            await asyncio.sleep(0.1)
    finally:
        traffic.stop.set()
        await asyncio.to_thread(thread.join, 10)
        for client in (alice, bob):
            if client.ws is not None:
                await client.ws.close()

    expected = {n + 1: f"a-{n}" for n in range(7)}
    assert alice.seen == expected and bob.seen == expected  # no loss, and one id per message
    answers = traffic.answers
    assert all(set(statuses) <= {200, 503} for statuses in answers.values()), answers
    assert 503 in answers["/ws/stats"] and answers["/ws/stats"][-1] == 200
    assert set(answers["/api/courses/"]) == {200} and set(answers["/api/notifications/"]) == {200}
    # The cache answers from L1 while its L2 is down; health is degraded (200), not down.
    assert set(answers["/api/analytics/services/cache"]) == {200}
    assert set(answers["/api/analytics/system/health"]) == {200} and "degraded" in traffic.health
    assert set(bob.closes) <= {4503}  # reconnects during the outage are told to wait, not a 500
