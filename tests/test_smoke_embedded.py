"""The embedded default, end to end, as `make run` starts it.

No DATABASE_URL, no REDIS_URL: SQLite and the embedded redis-server. The real
`runstack` command starts daphne, a Celery worker and beat; a client logs in over
HTTP, opens a WebSocket, uploads a file and sees the worker's progress events
arrive on its socket; Ctrl-C (SIGINT) then stops everything.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest
import websockets

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def embedded_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "REDIS_PREFIX")}
    env.update(DEBUG="true", TECNOCURSOS_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="tecnocursos.settings",
               OPERATOR_USERNAME="operator", OPERATOR_PASSWORD="smoke-test-pass-123")
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def http_json(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the stack exited during start-up"
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


async def upload_and_watch(base: str, ws_base: str, token: str) -> list[dict]:
    async with websockets.connect(f"{ws_base}/ws/connect?token={token}", open_timeout=10) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "connection" and hello["user"]["username"] == "operator"
        body, content_type = multipart("file", "smoke.txt", b"smoke test content")
        created = await asyncio.to_thread(
            http_json, f"{base}/api/uploads/", body,
            {"Authorization": f"Bearer {token}", "Content-Type": content_type},
        )
        events: list[dict] = []
        while not events or events[-1]["status"] not in ("done", "failed"):
            event = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if event["type"] == "progress" and event["task_id"] == created["task_id"]:
                events.append(event)
        return events


def test_the_embedded_stack_serves_http_websocket_and_runs_tasks(tmp_path):
    env = embedded_env(tmp_path)
    manage(env, "migrate", "--noinput")
    assert "operator" in manage(env, "ensure_operator")
    port = free_port()
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    stack = subprocess.Popen([sys.executable, "manage.py", "runstack", "--port", str(port), "--concurrency", "1",
                              "--web-processes", "2"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_http(f"{base}/admin/login/", stack)
        login = json.dumps({"username": "operator", "password": "smoke-test-pass-123"}).encode()
        token = http_json(f"{base}/api/auth/token/", login, {"Content-Type": "application/json"})["access"]
        daphnes = [c for c in psutil.Process(stack.pid).children() if "tecnocursos.serve" in " ".join(c.cmdline())]
        assert len(daphnes) == 2  # both accept on the one port runstack opened
        events = asyncio.run(upload_and_watch(base, ws_base, token))
        assert events[-1]["status"] == "done" and events[-1]["progress"] == 100
        assert (tmp_path / "redis.sock").exists()  # it really ran on the embedded Redis
        assert (tmp_path / "db.sqlite3").exists()
    finally:
        stack.send_signal(signal.SIGINT)
        output, _ = stack.communicate(timeout=60)
    assert stack.returncode == 0, output
    assert "Stopped." in output
    assert "WSCONNECT /ws/connect" in output and token not in output  # the access log keeps no credential
    assert not (tmp_path / "redis.sock").exists()  # the embedded Redis went down with the stack
