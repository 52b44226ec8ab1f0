"""Monitoring benchmark: the cost of request metrics and of one collection cycle.

    .venv/bin/python bench/monitoring_bench.py     # REDIS_URL, or the embedded Redis under var/

1. Requests per second of a trivial DRF endpoint (no authentication, a small JSON answer)
   through Django's whole WSGI handler with the project's middleware:
     (a) without request metrics, (b) with ours (RequestMetricsMiddleware first),
     (c) with django-prometheus's PrometheusBeforeMiddleware / PrometheusAfterMiddleware pair.
   In-process (no sockets): the figure is the handler's throughput on one thread, so the
   middleware's cost is not hidden behind network and server time. Contenders run in
   interleaved rounds; each figure is the median round. Our flush thread runs meanwhile,
   sending the counts to Redis every MONITORING_FLUSH_SECONDS, as in production.
2. CPU time of one collection cycle (services.snapshot_collect: psutil readings, this
   deployment's processes, Celery queue and WebSocket counts, the snapshot row written to a
   scratch SQLite database), as % of one core at the default 10 s interval. Process discovery
   (a scan of every process) runs once a minute: its cost is shown apart and amortized.
   Same-run baseline: the psutil readings alone (system_source.read), no Django, no storage.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
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
ROUNDS = 9
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


def run_round(handler: WSGIHandler) -> float:
    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("200"), status

    start = time.perf_counter()
    for _ in range(REQUESTS_PER_ROUND):
        response = handler(environ(), start_response)
        response.close()
    return REQUESTS_PER_ROUND / (time.perf_counter() - start)


def bench_requests() -> dict[str, float]:
    handlers = {}
    for name, middleware in middleware_variants().items():
        with override_settings(MIDDLEWARE=middleware):
            handlers[name] = WSGIHandler()
    names = list(handlers)
    for name in names:  # warm-up: imports, URL resolver, first allocations
        run_round(handlers[name])
    rates: dict[str, list[float]] = {name: [] for name in names}
    for i in range(ROUNDS):
        for name in names[i % len(names):] + names[:i % len(names)]:
            rates[name].append(run_round(handlers[name]))
    return {name: statistics.median(values) for name, values in rates.items()}


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
    reading = cpu_of(lambda: system_source.read(data_path=str(settings.VAR_DIR), finder=None), CYCLES)
    return {
        "cycle_ms": statistics.median(cycle) * 1000,
        "discovery_ms": statistics.median(discovery) * 1000,
        "psutil_only_ms": statistics.median(reading) * 1000,
        "processes_found": float(len(services._finder().read())),
    }


def main() -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    with override_settings(ROOT_URLCONF=__name__):
        rates = bench_requests()
    base = rates["(a) none"]
    print(f"\n1. Trivial DRF endpoint, WSGI handler in process, {ROUNDS} rounds x {REQUESTS_PER_ROUND} requests")
    for name, rate in rates.items():
        cost = (1 / rate - 1 / base) * 1e6
        print(f"   {name:24s} {rate:8.0f} req/s   {rate / base:5.3f}x of (a)   {cost:+6.1f} µs/request")
    ours, theirs = rates["(b) ours"], rates["(c) django-prometheus"]
    print(f"   goal (b) >= 0.95x (a): {'met' if ours >= 0.95 * base else 'MISSED'};"
          f" (b) above (c): {'yes' if ours > theirs else 'NO'} ({ours / theirs:.3f}x)")

    figures = bench_collection()
    interval = float(settings.MONITORING_COLLECT_INTERVAL)
    amortized = figures["cycle_ms"] + figures["discovery_ms"] * interval / 60
    percent = amortized / 1000 / interval * 100
    print(f"\n2. One collection cycle (median of {CYCLES}), {figures['processes_found']:.0f} project process(es) found")
    print(f"   psutil readings alone (baseline)    {figures['psutil_only_ms']:7.2f} ms CPU")
    print(f"   full cycle (readings + row)         {figures['cycle_ms']:7.2f} ms CPU"
          f"   {figures['cycle_ms'] / figures['psutil_only_ms']:.2f}x of the readings alone")
    print(f"   process discovery (once a minute)   {figures['discovery_ms']:7.2f} ms CPU")
    print(f"   at one cycle per {interval:g} s: {percent:.3f} % of one core"
          f" (goal < 0.5 %: {'met' if percent < 0.5 else 'MISSED'}; Netdata ~1-2 %)")


if __name__ == "__main__":
    main()
