#!/usr/bin/env python
"""Load benchmark: the whole stack (`manage.py runstack`) under chat, HTTP and idle-socket load.

    .venv/bin/python bench/load_bench.py [--duration 60] [--quick] [--web-processes 2] [--baseline 1]

Each target is `runstack` with N daphne processes on one shared port (plus a Celery worker and
beat) on real PostgreSQL (database `bench_load`, created) and real Redis (db 5, prefix `tcload`):

  phase 1 "chat": 200 WebSocket clients (200 users) in 20 rooms, each sending a chat message every
    2 s (100 messages/s in, ~1,000 deliveries/s out), plus 50 HTTP requests/s (course and
    notification lists, health, rooms, notification writes) for `--duration` seconds. Once
    deliveries have stopped for 3 s (an overloaded server's backlog is served, not cut off by the
    clients leaving; the time is shown), every client's received chat ids are compared with the
    room's stored history: lost, duplicated and foreign ids are counted. Latency is sender -> each
    member (wall clock, same machine).
  phase 2 "idle": 1,000 then 2,000 idle sockets; a broadcast (POST /ws/broadcast) every second to
    all of them: delivery latency p50/p99, lost deliveries, daphne RSS per socket.

The target with `--web-processes` (default: one per core) is compared with `--baseline` daphne
processes (default 1) in the same run: the ratios are the claim, absolute figures depend on the
machine. Clients run in this one process (asyncio, `websockets` + `requests` in threads), so
they share the 2 cores with the servers: the figures are an upper bound on latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fanout_bench import Client, Tracker, free_port, pct  # noqa: E402  (bench scripts share their helpers)

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_load"
REDIS_URL = "redis://127.0.0.1:6379/5"
PREFIX = "tcload"
ROOMS = 20
CHATTERS = 200
CHAT_INTERVAL = 2.0  # seconds between one client's messages
HTTP_RATE = 50.0  # requests per second
IDLE_STEPS = (1000, 2000)


def env_for(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "tecnocursos.settings",
        "SECRET_KEY": "load-bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "REDIS_PREFIX": PREFIX,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    exists = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                             f"select 1 from pg_database where datname='{name}'"], capture_output=True, text=True)
    if exists.stdout.strip() != "1":
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"create database {name}"],
                       check=True, capture_output=True)


@dataclass
class Fixture:
    chat_tokens: list[str]
    idle_tokens: list[str]
    staff_token: str
    chatter_ids: list[int]


def prepare(env: dict[str, str]) -> Fixture:
    """Migrate, make the users (unusable passwords: hashing would dominate) and mint their tokens."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    user_model = get_user_model()
    names = [f"chat{i}" for i in range(CHATTERS)] + [f"idle{i}" for i in range(IDLE_STEPS[-1])] + ["loadstaff"]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    fresh = []
    for name in names:
        if name not in existing:
            user = user_model(username=name, email=f"{name}@bench.invalid", is_staff=name == "loadstaff")
            user.set_unusable_password()
            fresh.append(user)
    user_model.objects.bulk_create(fresh, batch_size=500)
    users = {u.username: u for u in user_model.objects.filter(username__in=names)}

    def token(name: str) -> str:
        return str(AccessToken.for_user(users[name]))

    return Fixture(
        chat_tokens=[token(f"chat{i}") for i in range(CHATTERS)],
        idle_tokens=[token(f"idle{i}") for i in range(IDLE_STEPS[-1])],
        staff_token=token("loadstaff"),
        chatter_ids=[users[f"chat{i}"].pk for i in range(CHATTERS)],
    )


def reset_state(redis_url: str) -> None:
    """Start each target from the same place: no chat rows, no bench keys in Redis."""
    import redis

    from realtime.models import ChatMessage, Notification, Room

    ChatMessage.objects.filter(room__name__startswith="load-").delete()
    Room.objects.filter(name__startswith="load-").delete()
    Notification.objects.filter(user__username__startswith="chat").delete()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i: i + 500])
    client.close()


class Stack:
    """`manage.py runstack` in its own session; the web processes are its non-Celery children."""

    def __init__(self, env: dict[str, str], web_processes: int):
        self.env, self.web_processes = env, web_processes
        self.port = free_port()
        self.log = Path(f"/tmp/load-bench-{web_processes}.log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "manage.py", "runstack", "--port", str(self.port),
                 "--web-processes", str(self.web_processes), "--concurrency", "1"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runstack exited; see {self.log}")
            try:
                if requests.get(f"http://{self.base}/api/analytics/system/health", timeout=1).status_code < 500:
                    if len(self.web_pids()) == self.web_processes:
                        return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"runstack did not answer; see {self.log}")

    def web_pids(self) -> list[int]:
        import psutil

        assert self.proc is not None
        pids = []
        for child in psutil.Process(self.proc.pid).children():
            try:
                if "celery" not in " ".join(child.cmdline()):
                    pids.append(child.pid)
            except psutil.Error:
                pass
        return pids

    def web_rss(self) -> int:
        import psutil

        total = 0
        for pid in self.web_pids():
            try:
                total += psutil.Process(pid).memory_info().rss
            except psutil.Error:
                pass
        return total

    def web_cpu(self) -> float:
        import psutil

        total = 0.0
        for pid in self.web_pids():
            try:
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def error_lines(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if " ERROR " in line or "Traceback" in line]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- WebSocket clients ----------------------------------------------------------------------------


@dataclass
class Totals:
    """What every client saw, for one phase."""

    latencies: list[float] = field(default_factory=list)  # seconds
    errors: Counter[str] = field(default_factory=Counter)
    closed: int = 0
    received: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # client -> chat ids
    broadcasts: Counter[int] = field(default_factory=Counter)  # seq -> deliveries


class Socket(Client):
    """fanout_bench's client, reading chat ids and broadcasts into `Totals` instead of a Tracker."""

    def __init__(self, index: int, uri: str, totals: Totals):
        super().__init__(index, uri, Tracker())
        self.totals = totals

    async def open(self) -> None:
        await super().open()
        await asyncio.wait_for(self.expect("connection"), 30)  # the reader has not run yet: no race

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for frame in self.ws:
                now = time.time()
                event = json.loads(frame)
                kind = event.get("type")
                if kind == "chat":
                    self.totals.received[self.index].append(event["id"])
                    self.totals.latencies.append(now - json.loads(event["message"])["at"])
                elif kind == "notification" and event.get("broadcast"):
                    body = json.loads(event["message"])
                    self.totals.broadcasts[body["seq"]] += 1
                    self.totals.latencies.append(now - body["at"])
                elif kind == "error":
                    self.totals.errors[f"ws:{event.get('code')}"] += 1
                future = self.waiting.pop(kind, None)
                if future is not None and not future.done():
                    future.set_result(event)
        except ConnectionClosed:
            self.totals.closed += 1


async def open_all(sockets: list[Socket], at_once: int = 200) -> int:
    """Open in waves of `at_once` (a reconnect storm's shape); returns how many failed."""
    failed = 0
    for i in range(0, len(sockets), at_once):
        results = await asyncio.gather(*(s.open() for s in sockets[i: i + at_once]), return_exceptions=True)
        failed += sum(isinstance(r, BaseException) for r in results)
    return failed


# --- HTTP load ------------------------------------------------------------------------------------


class HttpLoad:
    """`rate` requests/s from a thread pool, a fixed mix of reads and writes."""

    def __init__(self, base: str, user_token: str, staff_token: str, chatter_ids: list[int], rate: float):
        import requests

        self.base, self.rate, self.chatter_ids = f"http://{base}", rate, chatter_ids
        self.user = requests.Session()
        self.user.headers["Authorization"] = f"Bearer {user_token}"
        self.staff = requests.Session()
        self.staff.headers["Authorization"] = f"Bearer {staff_token}"
        self.anon = requests.Session()
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=24)

    def _one(self, n: int) -> None:
        kind = n % 10
        started = time.perf_counter()
        try:
            if kind < 3:
                r = self.user.get(f"{self.base}/api/courses/", timeout=10)
            elif kind < 5:
                r = self.user.get(f"{self.base}/api/notifications/", timeout=10)
            elif kind < 7:
                r = self.user.get(f"{self.base}/ws/rooms", timeout=10)
            elif kind < 9:
                r = self.anon.get(f"{self.base}/api/analytics/system/health", timeout=10)
            else:
                r = self.staff.post(f"{self.base}/api/notifications/", timeout=10, json={
                    "user": random.choice(self.chatter_ids), "title": "load", "message": f"load {n}"})
            status = str(r.status_code)
        except Exception as exc:  # a refused or timed-out request is an error like a 5xx
            status = type(exc).__name__
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
            self.statuses[status] += 1

    async def run(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        pending = []
        n = 0
        while loop.time() - start < seconds:
            pending.append(loop.run_in_executor(self.pool, self._one, n))
            n += 1
            await asyncio.sleep(max(0.0, start + n / self.rate - loop.time()))
        await asyncio.gather(*pending)

    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not status.startswith(("2", "3")))


# --- phases -------------------------------------------------------------------------------------


async def drain(totals: Totals, quiet: float, limit: float) -> float:
    """Wait until deliveries stop (`quiet` s with none) so an overloaded server's backlog is served,
    not cut off by the client closing its sockets; returns how long that took."""
    start = time.monotonic()
    seen = -1
    while len(totals.latencies) != seen and time.monotonic() - start < limit:
        seen = len(totals.latencies)
        await asyncio.sleep(quiet)
    return time.monotonic() - start - quiet


def stored_history() -> dict[str, set[int]]:
    from django.db import connection

    from realtime.models import ChatMessage

    stored: dict[str, set[int]] = defaultdict(set)
    for room, seq in ChatMessage.objects.filter(room__name__startswith="load-").values_list("room__name", "seq"):
        stored[room].add(seq)
    connection.close()  # this thread ends here
    return stored


async def chat_phase(stack: Stack, fx: Fixture, seconds: float) -> dict[str, Any]:
    totals = Totals()
    sockets = [Socket(i, f"ws://{stack.base}/ws/connect?token={t}", totals) for i, t in enumerate(fx.chat_tokens)]
    room_of = {i: f"load-{i % ROOMS}" for i in range(CHATTERS)}
    refused = await open_all(sockets)
    for s in sockets:
        joined = s.expect("history")
        await s.send({"type": "join_room", "room": room_of[s.index]})
        await asyncio.wait_for(joined, 30)
    http = HttpLoad(stack.base, fx.chat_tokens[0], fx.staff_token, fx.chatter_ids, HTTP_RATE)
    totals.latencies.clear()
    cpu0, wall0 = stack.web_cpu(), time.monotonic()
    sent = 0

    async def chatter(s: Socket) -> None:
        nonlocal sent
        await asyncio.sleep(random.uniform(0, CHAT_INTERVAL))
        deadline = time.monotonic() + seconds
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            await s.send({"type": "chat", "room": room_of[s.index], "client_id": f"{s.index}-{seq}",
                          "message": json.dumps({"at": time.time(), "from": s.index, "seq": seq})})
            sent += 1
            await asyncio.sleep(CHAT_INTERVAL)

    await asyncio.gather(http.run(seconds), *(chatter(s) for s in sockets))
    drained = await drain(totals, quiet=3.0, limit=120.0)
    cpu = (stack.web_cpu() - cpu0) / (time.monotonic() - wall0) * 100  # the drain included
    rss = stack.web_rss()
    for s in sockets:
        await s.close()

    stored = await asyncio.to_thread(stored_history)
    lost = duplicated = foreign = 0
    for i in range(CHATTERS):
        got = totals.received[i]
        want = stored[room_of[i]]
        duplicated += len(got) - len(set(got))
        lost += len(want - set(got))
        foreign += len(set(got) - want)
    return {
        "chat_sent": sent, "chat_stored": sum(len(v) for v in stored.values()),
        "deliveries": len(totals.latencies), "lost": lost, "duplicated": duplicated, "foreign": foreign,
        "chat_p50_ms": pct(totals.latencies, 50) * 1000, "chat_p99_ms": pct(totals.latencies, 99) * 1000,
        "http_requests": sum(http.statuses.values()), "http_errors": http.errors(),
        "http_statuses": dict(http.statuses),
        "http_p50_ms": pct(http.latencies, 50) * 1000, "http_p99_ms": pct(http.latencies, 99) * 1000,
        "ws_errors": dict(totals.errors), "refused": refused, "closed": totals.closed,
        "daphne_cpu_pct": cpu, "daphne_rss_mb": rss / 2**20, "drain_s": drained,
    }


def broadcast(session: Any, base: str, body: dict[str, Any]) -> Any:
    return session.post(f"http://{base}/ws/broadcast", json=body, timeout=10)


async def idle_phase(stack: Stack, fx: Fixture, broadcasts: int) -> list[dict[str, Any]]:
    import requests

    rows = []
    staff = requests.Session()
    staff.headers["Authorization"] = f"Bearer {fx.staff_token}"
    opened: list[Socket] = []
    await asyncio.sleep(2)  # the chat phase's sockets are gone
    rss0 = stack.web_rss()
    loop = asyncio.get_running_loop()
    seq = 0
    for target in IDLE_STEPS:
        totals = Totals()
        fresh = [Socket(i, f"ws://{stack.base}/ws/connect?token={fx.idle_tokens[i]}", totals)
                 for i in range(len(opened), target)]
        refused = await open_all(fresh)
        opened += fresh
        for s in opened:
            s.totals = totals
        await asyncio.sleep(2)
        rss = stack.web_rss()
        first = seq + 1
        statuses: Counter[int] = Counter()
        for _ in range(broadcasts):
            seq += 1
            body = {"message": json.dumps({"at": time.time(), "seq": seq}), "title": "load"}
            r = await loop.run_in_executor(None, broadcast, staff, stack.base, body)
            statuses[r.status_code] += 1
            await asyncio.sleep(1)
        await asyncio.sleep(3)
        expected = target * broadcasts
        got = sum(totals.broadcasts[s] for s in range(first, seq + 1))
        rows.append({
            "sockets": target, "refused": refused, "broadcasts": broadcasts,
            "broadcast_statuses": dict(statuses), "lost": expected - got,
            "p50_ms": pct(totals.latencies, 50) * 1000, "p99_ms": pct(totals.latencies, 99) * 1000,
            "rss_per_socket_kb": (rss - rss0) / target / 1024, "ws_errors": dict(totals.errors),
            "closed": totals.closed,
        })
    for i in range(0, len(opened), 500):
        await asyncio.gather(*(s.close() for s in opened[i: i + 500]))
    return rows


async def run_target(args: argparse.Namespace, env: dict[str, str], fx: Fixture, web: int) -> dict[str, Any]:
    stack = Stack(env, web)
    stack.start()
    try:
        chat = await chat_phase(stack, fx, args.duration)
        idle = await idle_phase(stack, fx, args.broadcasts)
        return {"web_processes": web, "chat": chat, "idle": idle, "server_errors": stack.error_lines()}
    finally:
        stack.stop()


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def report(rows: list[dict[str, Any]]) -> str:
    base, main = rows[0], rows[-1]
    lines = ["| daphne | chat sent | stored | deliveries | lost | dup | chat p50 | chat p99 | http req | http err "
             "| http p50 | http p99 | ws errors | daphne cpu% | rss MB | backlog drained s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        c = row["chat"]
        lines.append(
            f"| {row['web_processes']} | {c['chat_sent']} | {c['chat_stored']} | {c['deliveries']} | {c['lost']} "
            f"| {c['duplicated']} | {c['chat_p50_ms']:.1f} | {c['chat_p99_ms']:.1f} | {c['http_requests']} "
            f"| {c['http_errors']} | {c['http_p50_ms']:.1f} | {c['http_p99_ms']:.1f} | {sum(c['ws_errors'].values())} "
            f"| {c['daphne_cpu_pct']:.0f} | {c['daphne_rss_mb']:.0f} | {c['drain_s']:.1f} |")
    lines += ["", "| daphne | idle sockets | refused | broadcasts | lost | p50 ms | p99 ms | RSS/socket KB |",
              "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for i in row["idle"]:
            lines.append(f"| {row['web_processes']} | {i['sockets']} | {i['refused']} | {i['broadcasts']} "
                         f"| {i['lost']} | {i['p50_ms']:.1f} | {i['p99_ms']:.1f} | {i['rss_per_socket_kb']:.1f} |")
    if len(rows) > 1:
        lines += ["", f"{main['web_processes']} vs {base['web_processes']} daphne: chat p99 "
                  f"{ratio(main['chat']['chat_p99_ms'], base['chat']['chat_p99_ms'])}, http p99 "
                  f"{ratio(main['chat']['http_p99_ms'], base['chat']['http_p99_ms'])}, broadcast p99 at "
                  f"{IDLE_STEPS[0]} sockets {ratio(main['idle'][0]['p99_ms'], base['idle'][0]['p99_ms'])}"]
    for row in rows:
        errors = row["server_errors"]
        lines.append(f"- {row['web_processes']} daphne: {len(errors)} ERROR/Traceback lines in the stack's log"
                     + (f" (first: `{errors[0][:160]}`)" if errors else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="chat phase seconds")
    parser.add_argument("--broadcasts", type=int, default=20, help="broadcasts per idle step")
    parser.add_argument("--web-processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline", type=int, default=1, help="daphne processes of the baseline (0: none)")
    parser.add_argument("--quick", action="store_true", help="15 s chat, 5 broadcasts per step")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.broadcasts = 15.0, 5
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 2,000 sockets here, inherited by daphne
    ensure_database(args.database_url)
    env = env_for(args)
    fx = prepare(env)
    webs = ([args.baseline] if args.baseline else []) + [args.web_processes]
    rows = []
    for web in webs:
        print(f"-- runstack with {web} daphne process(es)", flush=True)
        reset_state(args.redis_url)
        row = asyncio.run(run_target(args, env, fx, web))
        print(json.dumps(row, indent=1, default=str), flush=True)
        rows.append(row)
    print()
    print(report(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    clean = all(r["chat"]["lost"] == r["chat"]["duplicated"] == r["chat"]["http_errors"] == 0
                and all(i["lost"] == 0 and i["refused"] == 0 for i in r["idle"]) for r in rows)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
