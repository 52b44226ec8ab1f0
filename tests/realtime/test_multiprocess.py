"""Two real daphne processes on loopback sharing the database and the Redis layer:
a chat and a notification cross between them, and /ws/stats counts both sockets."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import websockets
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import database_url, free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 30

SETUP_USERS = """
import json
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
User = get_user_model()
names = ("mpalice", "mpbob", "mpstaff")
print(json.dumps({name: User.objects.create_user(name, is_staff=(name == "mpstaff")).id for name in names}))
"""


def server_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tecnocursos.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url(tmp_path),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_PREFIX": settings.REDIS_PREFIX,
        "TECNOCURSOS_VAR_DIR": str(settings.VAR_DIR),
        "PYTHONPATH": str(ROOT),
    }


def http(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait_until_serving(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"daphne on {port} exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"daphne on {port} did not start within {STARTUP_SECONDS}s")


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[list[int], dict[str, int]]]:
    env = server_env(tmp_path)
    setup = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + SETUP_USERS],
                           env=env, cwd=ROOT, capture_output=True, timeout=120)
    assert setup.returncode == 0, setup.stderr.decode()[-2000:]
    users = json.loads(setup.stdout.decode().strip().splitlines()[-1])
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "tecnocursos.asgi:application"],
                         env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_serving(port, process)
        yield ports, users
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def token_for(user_id: int) -> str:
    return str(AccessToken.for_user(SimpleNamespace(id=user_id)))


async def receive_type(ws: Any, type_: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {type_!r} event within {timeout}s")
        message = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        if message["type"] == type_:
            return message


async def test_chat_and_notifications_cross_processes_and_stats_count_both(two_servers):
    (port_a, port_b), users = two_servers
    alice_token, bob_token, staff_token = (token_for(users[name]) for name in ("mpalice", "mpbob", "mpstaff"))
    async with (
        websockets.connect(f"ws://127.0.0.1:{port_a}/ws/room/lobby", open_timeout=10,
                           subprotocols=["access_token", alice_token]) as alice,
        websockets.connect(f"ws://127.0.0.1:{port_b}/ws/room/lobby?token={bob_token}", open_timeout=10) as bob,
    ):
        assert alice.subprotocol == "access_token"
        for ws in (alice, bob):
            await receive_type(ws, "history")

        await alice.send(json.dumps({"type": "chat", "message": "from A"}))
        chat = await receive_type(bob, "chat")
        assert (chat["message"], chat["user"]["id"], chat["room"]) == ("from A", users["mpalice"], "lobby")
        assert (await receive_type(alice, "chat"))["message"] == "from A"  # the sender's own copy
        await bob.send(json.dumps({"type": "chat", "message": "from B"}))
        assert (await receive_type(alice, "chat"))["message"] == "from B"

        status, sent = await asyncio.to_thread(
            http, "POST", f"http://127.0.0.1:{port_a}/api/notifications/", staff_token,
            {"user": users["mpbob"], "title": "Cross", "message": "sent on A, read on B"})
        assert status == 201
        notification = await receive_type(bob, "notification")
        assert (notification["id"], notification["broadcast"]) == (sent["id"], False)

        status, stats = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{port_b}/ws/stats", staff_token)
        assert status == 200
        assert (stats["connections"], stats["users"], stats["rooms"]) == (2, 2, 1)
        assert sorted(s["connections"] for s in stats["servers"]) == [1, 1]
        status, rooms = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{port_a}/ws/rooms", alice_token)
        assert rooms == [{"name": "lobby", "members": 2, "connections": 2}]
