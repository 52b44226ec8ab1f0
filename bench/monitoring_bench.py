"""Monitoring benchmark: the cost of request metrics and of one collection cycle.

    .venv/bin/python bench/monitoring_bench.py     # REDIS_URL, or the embedded Redis under var/

1. Requests per second of a trivial DRF endpoint (no authentication, a small JSON answer)
   through Django's whole WSGI handler with the project's middleware:
     (a) without request metrics, (b) with ours (RequestMetricsMiddleware first),
     (c) with django-prometheus's PrometheusBeforeMiddleware / PrometheusAfterMiddleware pair.
   In-process (no sockets): the figure is the handler's throughput on one thread, so the
   middleware's cost is not hidden behind network and server time. Contenders run in
   interleaved rounds. Each round is timed on the wall clock and in process CPU time (our flush
   thread's included): on a shared machine the CPU figure is the steady one, since it leaves out
   the time other processes hold the cores. Figures are the best round; medians are printed too.
   Our flush thread runs meanwhile, sending the counts to Redis every MONITORING_FLUSH_SECONDS.
1b. The same through real daphne servers on loopback (bench/monitoring_bench_settings.py: one
   server per variant, all up at once, loaded in interleaved rounds by 4 keep-alive connections
   from a raw-socket client): what a deployment sees, where the server's own work per request
   dwarfs the middleware's. Best and median round.
2. CPU time of one collection cycle (services.snapshot_collect: psutil readings, this
   deployment's processes, Celery queue and WebSocket counts, the snapshot row written to a
   scratch SQLite database), as % of one core at the default 10 s interval. Process discovery
   (a scan of every process) runs once a minute: its cost is shown apart and amortized.
   Same-run baseline: the same psutil readings alone (system_source.read, processes included),
   without Django, the Celery and WebSocket figures or the database row.
   It runs while the three daphne servers of 1b idle, so the cycle reads real project processes.
"""

from __future__ import annotations

import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="monitoring-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tecnocursos.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ.setdefault("REDIS_PREFIX", "tcbench")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.permissions import AllowAny  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from monitoring import services, system_source  # noqa: E402
from monitoring.processes import ProcessFinder  # noqa: E402

REQUESTS_PER_ROUND = 2000
ROUNDS = 15
CYCLES = 40
OURS = "monitoring.middleware.RequestMetricsMiddleware"


class PingApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def get(self, request: object) -> Response:
        return Response({"ok": True})


urlpatterns = [path("bench/ping", PingApi.as_view(), name="bench-ping")]


def middleware_variants() -> dict[str, list[str]]:
    base = [m for m in settings.MIDDLEWARE if m != OURS]
    return {
        "(a) none": base,
        "(b) ours": [OURS, *base],
        "(c) django-prometheus": ["django_prometheus.middleware.PrometheusBeforeMiddleware", *base,
                                  "django_prometheus.middleware.PrometheusAfterMiddleware"],
    }


def environ() -> dict[str, object]:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/bench/ping", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
            "QUERY_STRING": "", "HTTP_ACCEPT": "application/json"}


def run_round(handler: WSGIHandler) -> tuple[float, float]:
    """(requests per wall second, requests per CPU second) of one round."""

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("200"), status

    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(REQUESTS_PER_ROUND):
        response = handler(environ(), start_response)
        response.close()
    return (REQUESTS_PER_ROUND / (time.perf_counter() - start), REQUESTS_PER_ROUND / (time.process_time() - cpu))


def bench_requests() -> dict[str, list[tuple[float, float]]]:
    handlers = {}
    for name, middleware in middleware_variants().items():
        with override_settings(MIDDLEWARE=middleware):
            handlers[name] = WSGIHandler()
    names = list(handlers)
    for name in names:  # warm-up: imports, URL resolver, first allocations
        run_round(handlers[name])
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for i in range(ROUNDS):
        for name in names[i % len(names):] + names[:i % len(names)]:
            rates[name].append(run_round(handlers[name]))
    return rates


DAPHNE_ROUNDS = 8
DAPHNE_ROUND_SECONDS = 3.0
DAPHNE_CONNECTIONS = 4
PING = b"GET /bench/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_daphne(variant: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "monitoring_bench_settings", "BENCH_MIDDLEWARE": variant,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)])}
    process = subprocess.Popen([sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port),
                                "tecnocursos.asgi:application"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"daphne ({variant}) did not start")


def _ping(sock: socket.socket) -> None:
    sock.sendall(PING)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head[:60].decode())
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)


def load_round(port: int) -> float:
    """Requests per second served while DAPHNE_CONNECTIONS clients ask back to back."""
    stop, counts = threading.Event(), [0] * DAPHNE_CONNECTIONS

    def client(i: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            while not stop.is_set():
                _ping(sock)
                counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(DAPHNE_CONNECTIONS)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # connections open, first requests served
    before, start = sum(counts), time.perf_counter()
    time.sleep(DAPHNE_ROUND_SECONDS)
    served, elapsed = sum(counts) - before, time.perf_counter() - start
    stop.set()
    for thread in threads:
        thread.join()
    return served / elapsed


def bench_daphne(servers: dict[str, tuple[subprocess.Popen[bytes], int]]) -> dict[str, list[float]]:
    names = list(servers)
    for name in names:
        load_round(servers[name][1])  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in names}
    for i in range(DAPHNE_ROUNDS):
        for name in names[i % len(names):] + names[:i % len(names)]:
            rates[name].append(load_round(servers[name][1]))
    return rates


def cpu_of(fn: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return times


def bench_collection() -> dict[str, float]:
    call_command("migrate", verbosity=0, interactive=False)
    services.snapshot_collect(force=True)  # warm-up and discovery
    cycle = cpu_of(lambda: services.snapshot_collect(force=True), CYCLES)
    finder = ProcessFinder(root=str(settings.BASE_DIR))
    discovery = cpu_of(finder.discover, 10)
    finder.processes()  # discovered once, as the cycle's finder is
    reading = cpu_of(lambda: system_source.read(data_path=str(settings.VAR_DIR), finder=finder), CYCLES)
    return {
        "cycle_ms": statistics.median(cycle) * 1000,
        "discovery_ms": statistics.median(discovery) * 1000,
        "psutil_only_ms": statistics.median(reading) * 1000,
        "processes_found": float(len(services._finder().read())),
    }


def main() -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    with override_settings(ROOT_URLCONF=__name__):
        rounds = bench_requests()
    print(f"\n1. Trivial DRF endpoint, WSGI handler in process, {ROUNDS} rounds x {REQUESTS_PER_ROUND} requests")
    for label, index in (("per CPU second", 1), ("per wall second", 0)):
        rates = {name: max(r[index] for r in values) for name, values in rounds.items()}
        medians = {name: statistics.median(r[index] for r in values) for name, values in rounds.items()}
        base = rates["(a) none"]
        print(f"   requests {label}:")
        for name, rate in rates.items():
            cost = (1 / rate - 1 / base) * 1e6
            print(f"     {name:24s} best {rate:6.0f}  {rate / base:5.3f}x of (a)  {cost:+6.1f} µs/request"
                  f"   (median {medians[name]:6.0f}, {medians[name] / medians['(a) none']:5.3f}x)")
        if index == 1:
            cpu_rates = rates
    base = cpu_rates["(a) none"]
    ours, theirs = cpu_rates["(b) ours"], cpu_rates["(c) django-prometheus"]
    print(f"   goal (b) >= 0.95x (a), CPU: {'met' if ours >= 0.95 * base else 'MISSED'};"
          f" (b) above (c): {'yes' if ours > theirs else 'NO'} ({ours / theirs:.3f}x)")

    variants = {"(a) none": "none", "(b) ours": "ours", "(c) django-prometheus": "django-prometheus"}
    servers = {name: start_daphne(variant) for name, variant in variants.items()}
    try:
        served = bench_daphne(servers)
        # While the three servers idle: the cycle then reads real project processes.
        figures = bench_collection()
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    base_daphne = statistics.median(served["(a) none"])
    print(f"\n1b. Through daphne on loopback, {DAPHNE_ROUNDS} rounds x {DAPHNE_ROUND_SECONDS:g} s,"
          f" {DAPHNE_CONNECTIONS} keep-alive connections")
    for name, values in served.items():
        median = statistics.median(values)
        print(f"     {name:24s} median {median:6.0f} req/s  {median / base_daphne:5.3f}x of (a)"
              f"   (best {max(values):6.0f}, {max(values) / max(served['(a) none']):5.3f}x)")

    interval = float(settings.MONITORING_COLLECT_INTERVAL)
    amortized = figures["cycle_ms"] + figures["discovery_ms"] * interval / 60
    percent = amortized / 1000 / interval * 100
    print(f"\n2. One collection cycle (median of {CYCLES}), {figures['processes_found']:.0f} project process(es) found")
    print(f"   psutil readings alone (baseline)    {figures['psutil_only_ms']:7.2f} ms CPU   (processes included)")
    print(f"   full cycle (readings + row)         {figures['cycle_ms']:7.2f} ms CPU"
          f"   {figures['cycle_ms'] / figures['psutil_only_ms']:.2f}x of the readings alone")
    print(f"   process discovery (once a minute)   {figures['discovery_ms']:7.2f} ms CPU")
    print(f"   at one cycle per {interval:g} s: {percent:.3f} % of one core"
          f" (goal < 0.5 %: {'met' if percent < 0.5 else 'MISSED'}; Netdata ~1-2 %)")


if __name__ == "__main__":
    main()
