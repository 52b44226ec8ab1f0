#!/usr/bin/env python
"""WebSocket fan-out benchmark: one group, N real sockets over 2 daphne processes, real Redis.

    .venv/bin/python bench/fanout_bench.py [--clients 200,500,1000] [--quick]
        [--variants core-tuned,pubsub,local-fast] [--mode chat]

For each target two daphne processes start on loopback; clients connect (alternating
between the processes, up to 200 at once, like a reconnect storm) and grow through the
client counts. Targets take turns at each count, so load from elsewhere on the machine
hits them alike. At each count:
  * probe: one message in, wait until every client has it: per-delivery latency p50/p99,
    and the time until all N have it (p50/max over the probes);
  * steady: messages at a fixed rate (5/s) for a few seconds: deliveries/s, latency p50/p99,
    messages lost, daphne and client CPU.
Targets:
  baseline       bench/fanout_relay.py, a consumer that only relays group_send, on
                 channels_redis defaults (core layer);
  project        tecnocursos.asgi:application with settings.CHANNEL_LAYERS;
  relay-<name>   (--variants) the relay on other layer set-ups: core-tuned, pubsub, local-fast...
A message goes in as a `notification` pushed to the `broadcast` group every socket joins
(what POST /ws/broadcast does; the baseline gets the same through group_send), or with
--mode chat as `chat` frames from the clients into one room they all joined (each join is
announced to the room, so connecting costs O(N^2) deliveries: keep N small).

Redis: db 4, prefix `tcbench` (only those keys are deleted); database: a SQLite file in /tmp.
Timings depend on the machine and what else runs on it: compare with the baseline of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/4"
PREFIX = "tcbench"
ROOM = "fanout-bench"
RELAY_GROUP = "fanout"
CORE = "channels_redis.core.RedisChannelLayer"
PUBSUB = "channels_redis.pubsub.RedisPubSubChannelLayer"


def relay_variants(redis_url: str) -> dict[str, tuple[dict[str, Any], bool]]:
    """Relay targets: name -> (layer, dispatch fast path on). `defaults` is the baseline."""
    # redis-py 8 reads with a 5 s socket timeout, the core layer blocks 5 s in BZPOPMIN:
    # an idle process then races the two and a consumer dies with TimeoutError.
    tuned_host = {"address": redis_url, "socket_timeout": 15, "max_connections": 1000}
    core_tuned = {"BACKEND": CORE, "CONFIG": {"hosts": [tuned_host], "prefix": f"{PREFIX}:tuned",
                                              "capacity": 1000, "expiry": 30}}
    pubsub = {"BACKEND": PUBSUB, "CONFIG": {"hosts": [redis_url], "prefix": f"{PREFIX}:ps"}}
    local = {"BACKEND": "realtime.fanout.layer.FanoutChannelLayer",
             "CONFIG": {"hosts": [redis_url], "prefix": f"{PREFIX}:local"}}
    return {
        "defaults": ({"BACKEND": CORE, "CONFIG": {"hosts": [redis_url], "prefix": f"{PREFIX}:base"}}, False),
        "core-tuned": (core_tuned, False),
        "core-tuned-fast": (core_tuned, True),
        "pubsub": (pubsub, False),
        "pubsub-fast": (pubsub, True),
        "local": (local, False),
        "local-fast": (local, True),
    }


# --- measurement ----------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Tracker:
    """Arrivals of numbered messages at every client."""

    expected: int = 0
    sent: dict[int, float] = field(default_factory=dict)
    arrivals: dict[int, list[float]] = field(default_factory=dict)
    complete: dict[int, asyncio.Event] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    closed: int = 0
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_message(self) -> int:
        seq = next(self.seq)
        self.arrivals[seq] = []
        self.complete[seq] = asyncio.Event()
        self.sent[seq] = time.monotonic()
        return seq

    def arrived(self, seq: int, at: float) -> None:
        got = self.arrivals.get(seq)
        if got is None:
            return
        got.append(at)
        if len(got) >= self.expected:
            self.complete[seq].set()


def seq_of(event: dict[str, Any]) -> int | None:
    """The message number a frame carries: top-level (push, relay) or inside a chat message."""
    if "seq" in event:
        return int(event["seq"])
    inner = event.get("message")
    if event.get("type") == "chat" and isinstance(inner, str) and inner.startswith("{"):
        try:
            return int(json.loads(inner)["seq"])
        except (ValueError, KeyError, TypeError):
            return None
    return None


class Client:
    def __init__(self, index: int, uri: str, tracker: Tracker):
        self.index = index
        self.uri = uri
        self.tracker = tracker
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        # A handshake the server never completes (its consumer died in group_add) fails in 10 s.
        self.ws = await connect(self.uri, compression=None, ping_interval=None, open_timeout=10, max_size=2**22)
        self.reader = asyncio.create_task(self._read())

    def expect(self, type_: str) -> asyncio.Future[dict[str, Any]]:
        future = self.waiting[type_] = asyncio.get_running_loop().create_future()
        return future

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for frame in self.ws:
                at = time.monotonic()
                event = json.loads(frame)
                seq = seq_of(event)
                if seq is not None:
                    self.tracker.arrived(seq, at)
                    continue
                kind = event.get("type")
                if kind == "error":
                    self.tracker.server_errors.append(str(event.get("code")))
                future = self.waiting.pop(kind, None)
                if future is not None and not future.done():
                    future.set_result(event)
        except ConnectionClosed:
            self.tracker.closed += 1

    async def send(self, payload: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(payload))

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 2)
            except Exception:  # the server may be gone already
                pass


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """Two daphne processes serving one ASGI app; logs go to /tmp for the error count."""

    def __init__(self, name: str, app: str, env: dict[str, str]):
        self.name, self.app, self.env = name, app, env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        self.logs: list[Path] = []

    def start(self) -> None:
        for i in range(2):
            port = free_port()
            log = Path(f"/tmp/fanout-bench-{self.name}-{i}.log")
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), self.app],
                    cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )
            self.procs.append(proc)
            self.ports.append(port)
            self.logs.append(log)
        deadline = time.monotonic() + 30
        for port, proc in zip(self.ports, self.procs, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"daphne for {self.name} exited; see {self.logs}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"daphne for {self.name} did not listen; see {self.logs}") from None
                    time.sleep(0.1)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def cpu_seconds(self) -> float:
        import psutil

        total = 0.0
        for proc in self.procs:
            try:
                times = psutil.Process(proc.pid).cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def error_lines(self) -> list[str]:
        """Log records that report a failure: ERROR records (tracebacks follow them), over-capacity drops."""
        bad = (" ERROR ", "CRITICAL", "over capacity")
        lines: list[str] = []
        for log in self.logs:
            text = log.read_text(errors="replace") if log.exists() else ""
            lines += [line for line in text.splitlines() if any(b in line for b in bad)]
        return lines

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# --- targets ------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    app: str
    layer: dict[str, Any]
    relay: bool  # bench/fanout_relay.py (no auth) or the real app
    fast: bool = False  # relay only: with tecnocursos.core.channels_dispatch.FanoutDispatchMixin
    # How a message goes in: a client frame (`socket` to the relay, `chat` to the app) or a
    # `group_send` from this process (`push`).
    mode: str = "socket"
    tokens: list[str] = field(default_factory=list)
    push_group: str = ""

    def uri(self, port: int, index: int) -> str:
        if self.relay:
            return f"ws://127.0.0.1:{port}/ws/relay"
        return f"ws://127.0.0.1:{port}/ws/connect?token={self.tokens[index % len(self.tokens)]}"


@dataclass
class Cell:
    target: str
    clients: int
    mode: str
    probe_lat: list[float]
    probe_all: list[float]
    steady_lat: list[float]
    steady_rate: float
    delivered_per_s: float
    lost: int
    expected: int
    layer_errors: int
    client_errors: int
    closed: int
    refused: int
    cpu_pct: float
    client_cpu_pct: float

    def row(self) -> dict[str, Any]:
        ms = 1000.0
        return {
            "target": self.target, "clients": self.clients, "mode": self.mode,
            "probe_p50_ms": pct(self.probe_lat, 50) * ms, "probe_p99_ms": pct(self.probe_lat, 99) * ms,
            "all_n_p50_ms": pct(self.probe_all, 50) * ms, "all_n_max_ms": pct(self.probe_all, 100) * ms,
            "steady_p50_ms": pct(self.steady_lat, 50) * ms, "steady_p99_ms": pct(self.steady_lat, 99) * ms,
            "rate": self.steady_rate, "delivered_per_s": self.delivered_per_s,
            "lost": self.lost, "expected": self.expected, "layer_errors": self.layer_errors,
            "client_errors": self.client_errors, "closed": self.closed, "refused": self.refused,
            "daphne_cpu_pct": self.cpu_pct,
            "client_cpu_pct": self.client_cpu_pct,
        }


class Run:
    def __init__(self, target: Target, servers: Servers, args: argparse.Namespace):
        self.target, self.servers, self.args = target, servers, args
        self.tracker = Tracker()
        self.clients: list[Client] = []
        self.layer: Any = None
        self.senders = itertools.count()
        self.errors_seen = 0  # log error lines already charged to an earlier cell
        self.refused = 0  # connections refused since the last cell

    async def grow(self, n: int) -> None:
        """Open clients up to n; each is in the group once this returns."""
        semaphore = asyncio.Semaphore(200)  # a reconnect storm, not a polite trickle
        ports = self.servers.ports
        new = [Client(i, self.target.uri(ports[i % 2], i), self.tracker) for i in range(len(self.clients), n)]

        async def join(client: Client) -> bool:
            async with semaphore:
                try:
                    if not self.target.relay:
                        connected = client.expect("connection")
                        await client.open()
                        await asyncio.wait_for(connected, 30)
                        if self.target.mode == "chat":
                            history = client.expect("history")
                            await client.send({"type": "join_room", "room": ROOM})
                            await asyncio.wait_for(history, 30)
                    else:
                        await client.open()
                    return True
                except Exception:  # refused by the server (e.g. the layer failed in group_add)
                    await client.close()
                    return False

        joined = await asyncio.gather(*(join(c) for c in new))
        self.refused += joined.count(False)
        self.clients += [c for c, ok in zip(new, joined, strict=True) if ok]
        self.tracker.expected = len(self.clients)

    async def send_one(self) -> int:
        seq = self.tracker.new_message()
        body = {"seq": seq}
        if self.target.mode == "push" and self.target.relay:
            await self.layer.group_send(RELAY_GROUP, {"type": "relay", "text": json.dumps(body)})
            return seq
        if self.target.mode == "push":
            event = {"type": "notification", "id": seq, "title": "bench", "message": "fan-out", "level": "info",
                     "broadcast": False, "seq": seq}
            await self.layer.group_send(self.target.push_group, {"type": "push", "event": event})
            return seq
        # Rotate the sender so no single socket hits a per-connection rate limit.
        sender = self.clients[next(self.senders) % len(self.clients)]
        if self.target.mode == "chat":
            await sender.send({"type": "chat", "room": ROOM, "message": json.dumps(body)})
        else:
            await sender.send(body)
        return seq

    def latencies(self, seqs: list[int]) -> tuple[list[float], list[float], int]:
        per_delivery: list[float] = []
        all_n: list[float] = []
        lost = 0
        for seq in seqs:
            got = self.tracker.arrivals[seq]
            per_delivery += [at - self.tracker.sent[seq] for at in got]
            lost += max(0, self.tracker.expected - len(got))
            if len(got) >= self.tracker.expected:
                all_n.append(max(got) - self.tracker.sent[seq])
        return per_delivery, all_n, lost

    async def measure(self, n: int) -> Cell:
        args = self.args
        client_errors_before = len(self.tracker.server_errors)
        closed_before = self.tracker.closed
        # Warm-up: first messages pay for lazy connections and imports.
        for _ in range(3):
            seq = await self.send_one()
            await self._wait(seq, 3)
        probes: list[int] = []
        for _ in range(args.probes):
            seq = await self.send_one()
            probes.append(seq)
            await self._wait(seq, 3)
            await asyncio.sleep(0.05)
        probe_lat, probe_all, probe_lost = self.latencies(probes)

        steady: list[int] = []
        count = max(1, int(args.rate * args.seconds))
        cpu0, t0, own0 = self.servers.cpu_seconds(), time.monotonic(), time.process_time()
        for k in range(count):
            delay = t0 + k / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            steady.append(await self.send_one())
        drain = time.monotonic() + 5  # what has not arrived by then is "missing": dropped or hopelessly late
        for seq in steady:
            await self._wait(seq, max(0.01, drain - time.monotonic()))
        cpu1, t1, own1 = self.servers.cpu_seconds(), time.monotonic(), time.process_time()
        steady_lat, _, steady_lost = self.latencies(steady)
        arrivals = [at for seq in steady for at in self.tracker.arrivals[seq]]
        window = (max(arrivals) - self.tracker.sent[steady[0]]) if arrivals else float("nan")
        return Cell(
            target=self.target.name, clients=n, mode=self.target.mode,
            probe_lat=probe_lat, probe_all=probe_all, steady_lat=steady_lat, steady_rate=args.rate,
            delivered_per_s=len(arrivals) / window if arrivals else 0.0,
            lost=probe_lost + steady_lost, expected=(len(probes) + len(steady)) * n,
            layer_errors=self._new_errors(),
            client_errors=len(self.tracker.server_errors) - client_errors_before,
            closed=self.tracker.closed - closed_before,
            refused=self.refused,
            cpu_pct=100 * (cpu1 - cpu0) / (t1 - t0),
            client_cpu_pct=100 * (own1 - own0) / (t1 - t0),
        )

    def _new_errors(self) -> int:
        # Counted from the end of the previous cell: connecting the new clients is part of this one.
        total = len(self.servers.error_lines())
        new, self.errors_seen = total - self.errors_seen, total
        return new

    async def _wait(self, seq: int, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.tracker.complete[seq].wait(), timeout)
        except TimeoutError:
            pass

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))
        if self.layer is not None and hasattr(self.layer, "close_pools"):
            await self.layer.close_pools()


async def run_all(runs: list[Run], args: argparse.Namespace, deadline: float) -> list[Cell]:
    """Targets take turns at each client count, so load from elsewhere on the machine hits them alike."""
    cells: list[Cell] = []
    live = list(runs)
    try:
        for run in runs:
            if run.target.mode == "push":
                from importlib import import_module

                module, _, cls = run.target.layer["BACKEND"].rpartition(".")
                run.layer = getattr(import_module(module), cls)(**run.target.layer.get("CONFIG", {}))
        for n in args.clients:
            for run in list(live):
                name = run.target.name
                if time.monotonic() > deadline:
                    print(f"  {name}: time budget spent, skipping {n} clients", flush=True)
                    continue
                started = time.monotonic()
                try:
                    await asyncio.wait_for(run.grow(n), 90)
                except Exception as exc:  # reported, and this target stops; the others go on
                    print(f"  {name} @ {n}: could not connect all clients: {exc!r}", flush=True)
                    live.remove(run)
                    continue
                if not run.servers.alive():
                    print(f"  {name}: a daphne process died; see {run.servers.logs}", flush=True)
                    live.remove(run)
                    continue
                cell = await run.measure(n)
                run.refused = 0
                cells.append(cell)
                print(f"  {name:<16} {time.monotonic() - started:5.1f}s  {format_row(cell.row())}", flush=True)
    finally:
        await asyncio.gather(*(run.close() for run in runs))
    return cells


# --- setup ---------------------------------------------------------------------------------------


def base_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "tecnocursos.settings",
        "SECRET_KEY": env.get("SECRET_KEY") or "fanout-bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "REDIS_PREFIX": PREFIX,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def prepare_django(env: dict[str, str], users: int) -> tuple[list[str], dict[str, Any]]:
    """Migrate the bench database and make `users` users; returns (tokens, the project's layer)."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    user_model = get_user_model()
    names = [f"fanout{i}" for i in range(users)]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    fresh = []
    for name in names:
        if name not in existing:
            user = user_model(username=name, email=f"{name}@bench.invalid")
            user.set_unusable_password()  # hashing 1000 passwords would dominate the setup
            fresh.append(user)
    user_model.objects.bulk_create(fresh, batch_size=500)
    by_name = {u.username: u for u in user_model.objects.filter(username__in=names)}
    tokens = [str(AccessToken.for_user(by_name[name])) for name in names]
    return tokens, dict(settings.CHANNEL_LAYERS["default"])


def clean_redis(redis_url: str) -> None:
    """Delete only this benchmark's keys (prefix tcbench) in its own db."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i : i + 500])
    client.close()


# --- output --------------------------------------------------------------------------------------

COLUMNS = [
    ("target", "target", "{}"), ("clients", "N", "{}"), ("mode", "in", "{}"),
    ("probe_p50_ms", "p50 ms", "{:.1f}"), ("probe_p99_ms", "p99 ms", "{:.1f}"),
    ("all_n_p50_ms", "all-N p50", "{:.1f}"), ("all_n_max_ms", "all-N max", "{:.1f}"),
    ("steady_p50_ms", "steady p50", "{:.1f}"), ("steady_p99_ms", "steady p99", "{:.1f}"),
    ("delivered_per_s", "deliv/s", "{:.0f}"), ("lost", "missing", "{}"), ("layer_errors", "layer err", "{}"),
    ("refused", "refused", "{}"), ("closed", "closed", "{}"),
    ("daphne_cpu_pct", "daphne cpu%", "{:.0f}"), ("client_cpu_pct", "client cpu%", "{:.0f}"),
]


def cell_text(fmt: str, value: Any) -> str:
    return "-" if isinstance(value, float) and math.isnan(value) else fmt.format(value)


def format_row(row: dict[str, Any]) -> str:
    return "  ".join(f"{h}={cell_text(fmt, row[k])}" for k, h, fmt in COLUMNS[1:])


def markdown(rows: list[dict[str, Any]], baseline: str) -> str:
    head = [h for _, h, _ in COLUMNS] + ["steady p99 / baseline"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = {r["clients"]: r for r in rows if r["target"] == baseline}
    for row in rows:
        ref = base.get(row["clients"])
        ratio = f"{row['steady_p99_ms'] / ref['steady_p99_ms']:.2f}x" if ref and ref["steady_p99_ms"] else "-"
        out.append("| " + " | ".join(cell_text(fmt, row[k]) for k, _, fmt in COLUMNS) + f" | {ratio} |")
    return "\n".join(out)


def verdict(rows: list[dict[str, Any]], target: str, goal_ms: float) -> str:
    """Goal per client count: every message to every client, p99 < goal, no layer errors."""
    mine = [r for r in rows if r["target"] == target]
    if not mine:
        return f"{target}: not measured"
    parts = []
    for r in mine:
        why = [label for bad, label in (
            (r["lost"] > 0, f"{r['lost']} missing"),
            (r["refused"] + r["closed"] > 0, f"{r['refused'] + r['closed']} sockets refused/closed"),
            (r["layer_errors"] > 0, f"{r['layer_errors']} layer errors"),
            (max(r["steady_p99_ms"], r["probe_p99_ms"]) >= goal_ms,
             f"p99 {max(r['steady_p99_ms'], r['probe_p99_ms']):.0f} ms"),
        ) if bad]
        parts.append(f"{r['clients']}: " + ("met" if not why else "NOT met (" + ", ".join(why) + ")"))
    return f"{target}: goal (all delivered, p99 < {goal_ms:.0f} ms, no errors): " + "; ".join(parts)


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="200,500,1000", help="comma-separated client counts (ascending)")
    parser.add_argument("--quick", action="store_true", help="100,300 clients and short phases (smoke run)")
    parser.add_argument("--rate", type=float, default=5.0, help="steady send rate, messages/s")
    parser.add_argument("--seconds", type=float, default=5.0, help="steady phase length")
    parser.add_argument("--probes", type=int, default=12, help="one-at-a-time messages per client count")
    parser.add_argument("--variants", default="",
                        help=f"extra relay targets: {','.join(relay_variants(REDIS_URL))}")
    parser.add_argument("--no-project", action="store_true", help="skip the real app (relay targets only)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline relay")
    parser.add_argument("--mode", choices=["auto", "chat", "push"], default="auto",
                        help="how a message enters the real app: a push to the broadcast group (auto), or chat "
                             "frames in one room (every join is announced to the room: O(N^2) setup)")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--database-url", default=os.environ.get("FANOUT_DATABASE_URL",
                                                                 "sqlite:////tmp/fanout-bench.sqlite3"))
    parser.add_argument("--budget", type=float, default=300, help="seconds; later cells are skipped past it")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--goal-ms", type=float, default=100.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.seconds, args.probes = "100,300", 3.0, 8
    args.clients = sorted(int(c) for c in args.clients.split(",") if c)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # 1000 client sockets here and ~500 per daphne (children inherit the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 65536))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 3 * max(args.clients) + 100:
        print(f"warning: open-file limit {want} is low for {max(args.clients)} clients", file=sys.stderr)

    env = base_env(args)
    variants = relay_variants(args.redis_url)
    mode = args.mode if args.mode != "auto" else "push"
    # The baseline takes messages in the same way as the app, so the ratios compare fan-out only.
    relay_mode = "socket" if mode == "chat" else "push"
    targets: list[Target] = []
    names = ([] if args.no_baseline else ["defaults"]) + [v for v in args.variants.split(",") if v]
    for name in names:
        layer, fast = variants[name]
        targets.append(Target("baseline" if name == "defaults" else f"relay-{name}", "bench.fanout_relay:application",
                              layer, relay=True, fast=fast, mode=relay_mode))
    if not args.no_project:
        tokens, project_layer = prepare_django(env, max(args.clients))
        # Push: a `notification` to the `broadcast` group every socket joins (POST /ws/broadcast's
        # path); chat: `chat` frames in one room, which every client has joined.
        targets.append(Target("project", "tecnocursos.asgi:application", project_layer, relay=False, mode=mode,
                              tokens=tokens, push_group="broadcast"))

    print(f"fan-out bench: clients={args.clients} rate={args.rate}/s seconds={args.seconds} probes={args.probes} "
          f"cores={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f}", flush=True)
    deadline = time.monotonic() + args.budget
    clean_redis(args.redis_url)
    runs: list[Run] = []
    try:
        for target in targets:
            target_env = dict(env, FANOUT_RELAY_FAST=str(int(target.fast)))
            if target.relay:  # the project reads its layer from settings (with live objects: not JSON)
                target_env["FANOUT_LAYER"] = json.dumps(target.layer)
            servers = Servers(target.name, target.app, target_env)
            print(f"{target.name}: {target.app} on {target.layer['BACKEND']} (in: {target.mode})", flush=True)
            runs.append(Run(target, servers, args))
            servers.start()
        cells = asyncio.run(run_all(runs, args, deadline))
        for run in runs:
            errors = run.servers.error_lines()
            if errors:
                print(f"{run.target.name}: {len(errors)} error lines in {run.servers.logs}, first: {errors[0][:300]}")
    finally:
        for run in runs:
            run.servers.stop()
        clean_redis(args.redis_url)
    rows = [c.row() for c in cells]

    print()
    print(markdown(rows, "baseline"))
    print()
    for target in targets:
        print(verdict(rows, target.name, args.goal_ms))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
