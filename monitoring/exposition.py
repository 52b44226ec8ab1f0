"""GET /metrics: the Prometheus text exposition, built with prometheus_client at scrape time.

Nothing here counts: every family is read from what the whole deployment shares —
request and task totals in Redis (every web process and worker adds to them), the
latest system snapshot (node_exporter names), realtime's WebSocket counts, the cache's
cluster figures, the Celery queues and heartbeats. Later subsystems add their families
through the MONITORING_EXPORTERS setting: dotted paths of callables returning metric
families (alerts_firing, backup_last_success_timestamp_seconds, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from monitoring import histogram, redis_store, selectors
from monitoring.aggregator import Parsed
from monitoring.models import SystemSnapshot
from monitoring.sampling import DISK_FIELDS, NET_FIELDS
from tecnocursos.cache.selectors import cache_stats

logger = logging.getLogger(__name__)

Families = Iterable[Metric]


def _buckets(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    cumulative = histogram.cumulative(counts)
    finite = [(repr(float(bound)), float(count)) for bound, count in zip(bounds, cumulative, strict=False)]
    return [*finite, ("+Inf", float(cumulative[-1]))]


def http_families(totals: Parsed) -> Families:
    requests = CounterMetricFamily("http_requests", "HTTP requests answered, every web process together",
                                   labels=["method", "route", "status"])
    duration = HistogramMetricFamily("http_request_duration_seconds", "HTTP request latency, to the response object",
                                     labels=["method", "route"])
    size = CounterMetricFamily("http_response_size_bytes", "Bytes of response bodies", labels=["method", "route"])
    queries = CounterMetricFamily("http_request_db_queries", "Database queries made while serving requests",
                                  labels=["method", "route"])
    db_time = CounterMetricFamily("http_request_db_duration_seconds", "Database time spent serving requests",
                                  labels=["method", "route"])
    for (method, route), stats in sorted(totals.requests.items()):
        for status, count in sorted(stats.statuses.items()):
            requests.add_metric([method, route, str(status)], count)
        seconds = stats.duration_us / 1e6
        duration.add_metric([method, route], _buckets(histogram.LATENCY_BOUNDS, stats.histogram), seconds)
        size.add_metric([method, route], stats.response_bytes)
        queries.add_metric([method, route], stats.db_queries)
        db_time.add_metric([method, route], stats.db_time_us / 1e6)
    return [requests, duration, size, queries, db_time]


def task_families(totals: Parsed) -> Families:
    runs = CounterMetricFamily("celery_task_runs", "Celery task runs by final state", labels=["task", "state"])
    runtime = HistogramMetricFamily("celery_task_runtime_seconds", "Celery task runtime", labels=["task"])
    for task, stats in sorted(totals.tasks.items()):
        for state, count in sorted(stats.states.items()):
            runs.add_metric([task, state], count)
        seconds = stats.runtime_us / 1e6
        runtime.add_metric([task], _buckets(histogram.TASK_BOUNDS, stats.histogram), seconds)
    return [runs, runtime]


def celery_families() -> Families:
    queue = GaugeMetricFamily("celery_queue_length", "Tasks waiting in a Celery queue", labels=["queue"])
    for name, length in sorted(redis_store.queue_lengths(settings.MONITORING_CELERY_QUEUES).items()):
        queue.add_metric([name], length)
    workers = GaugeMetricFamily("celery_workers", "Celery workers with a recent heartbeat",
                                value=len(selectors.celery_workers()))
    return [queue, workers]


def websocket_families() -> Families:
    stats = selectors.websocket_stats()
    families: list[Metric] = [
        GaugeMetricFamily("websocket_connections", "Open WebSocket connections, every server process",
                          value=stats["connections"]),
        GaugeMetricFamily("websocket_users", "Distinct users with an open WebSocket", value=stats["users"]),
        GaugeMetricFamily("websocket_rooms", "Rooms with live members", value=stats["rooms"]),
        CounterMetricFamily("websocket_connections_opened", "WebSocket connections authenticated and opened",
                            value=stats.get("connections_total", 0)),
        CounterMetricFamily("websocket_frame_errors", "Error events sent to clients", value=stats.get("errors", 0)),
    ]
    messages = CounterMetricFamily("websocket_messages", "WebSocket frames", labels=["direction"])
    messages.add_metric(["in"], stats.get("messages_in", 0))
    messages.add_metric(["out"], stats.get("messages_out", 0))
    per_server = GaugeMetricFamily("websocket_server_connections", "Open WebSocket connections per server process",
                                   labels=["server"])
    for server in stats.get("servers", []):
        per_server.add_metric([server["server"]], server["connections"])
    families += [messages, per_server]
    for kind, label, help_text in (("closed", "code", "WebSocket connections closed, by close code"),
                                   ("refused", "reason", "WebSocket handshakes refused, by reason"),
                                   ("error", "code", "Error events sent to clients, by error code")):
        family = CounterMetricFamily(f"websocket_{kind}", help_text, labels=[label])
        for value, count in sorted(stats["events"][kind].items()):
            family.add_metric([value], count)
        families.append(family)
    return families


def cache_families() -> Families:
    stats = cache_stats()
    hits = CounterMetricFamily("cache_hits", "Cache hits per tier, every process", labels=["tier"])
    misses = CounterMetricFamily("cache_misses", "Cache misses per tier, every process", labels=["tier"])
    items = GaugeMetricFamily("cache_items", "Items kept per tier", labels=["tier"])
    size = GaugeMetricFamily("cache_bytes", "Bytes kept per tier", labels=["tier"])
    for tier in ("l1", "l2"):
        hits.add_metric([tier], stats[tier]["hits"])
        misses.add_metric([tier], stats[tier]["misses"])
        if stats[tier]["items"] is not None:
            items.add_metric([tier], stats[tier]["items"])
        if stats[tier]["bytes"] is not None:
            size.add_metric([tier], stats[tier]["bytes"])
    up = GaugeMetricFamily("cache_up", "1 when the cache's shared tier and coherence work",
                           value=1 if stats["health"]["status"] == "ok" else 0)
    errors = CounterMetricFamily("cache_errors", "Cache operations that failed on Redis", value=stats["errors"])
    return [hits, misses, items, size, up, errors]


def _gauge(name: str, help_text: str, snapshots: list[SystemSnapshot], attribute: str, scale: float = 1.0) -> Metric:
    family = GaugeMetricFamily(name, help_text, labels=["host"])
    for snapshot in snapshots:
        value = getattr(snapshot, attribute)
        if value is not None:
            family.add_metric([snapshot.host], value * scale)
    return family


def _node_counters(snapshots: list[SystemSnapshot]) -> Families:
    cpu = CounterMetricFamily("node_cpu_seconds", "Seconds the CPUs spent in each mode (all cores)",
                              labels=["host", "mode"])
    disk = {field: CounterMetricFamily(name, help_text, labels=["host", "device"]) for field, name, help_text in (
        ("read_bytes", "node_disk_read_bytes", "Bytes read"),
        ("write_bytes", "node_disk_written_bytes", "Bytes written"),
        ("read_count", "node_disk_reads_completed", "Reads completed"),
        ("write_count", "node_disk_writes_completed", "Writes completed"))}
    net = {field: CounterMetricFamily(name, help_text, labels=["host", "device"]) for field, name, help_text in (
        ("bytes_recv", "node_network_receive_bytes", "Bytes received"),
        ("bytes_sent", "node_network_transmit_bytes", "Bytes sent"),
        ("packets_recv", "node_network_receive_packets", "Packets received"),
        ("packets_sent", "node_network_transmit_packets", "Packets sent"),
        ("errin", "node_network_receive_errs", "Receive errors"),
        ("errout", "node_network_transmit_errs", "Transmit errors"),
        ("dropin", "node_network_receive_drop", "Received packets dropped"),
        ("dropout", "node_network_transmit_drop", "Sent packets dropped"))}
    for snapshot in snapshots:
        counters = snapshot.counters or {}
        for mode, seconds in sorted(counters.get("cpu", {}).items()):
            if mode not in ("guest", "guest_nice"):  # node_exporter keeps those apart: they are in user/nice
                cpu.add_metric([snapshot.host, mode], seconds)
        for device, values in sorted(counters.get("disk", {}).items()):
            for field, value in zip(DISK_FIELDS, values, strict=False):
                disk[field].add_metric([snapshot.host, device], value)
        for device, values in sorted(counters.get("net", {}).items()):
            for field, value in zip(NET_FIELDS, values, strict=False):
                net[field].add_metric([snapshot.host, device], value)
    return [cpu, *disk.values(), *net.values()]


def _filesystems(snapshots: list[SystemSnapshot]) -> Families:
    labels = ["host", "device", "fstype", "mountpoint"]
    size = GaugeMetricFamily("node_filesystem_size_bytes", "Filesystem size", labels=labels)
    avail = GaugeMetricFamily("node_filesystem_avail_bytes", "Space available to unprivileged users", labels=labels)
    free = GaugeMetricFamily("node_filesystem_free_bytes", "Free space (including reserved)", labels=labels)
    for snapshot in snapshots:
        for mount in snapshot.mounts or []:
            values = [snapshot.host, mount.get("device", ""), mount.get("fstype", ""), mount.get("mountpoint", "")]
            size.add_metric(values, mount["total"])
            avail.add_metric(values, mount["free"])
            free.add_metric(values, mount["total"] - mount["used"])
    return [size, avail, free]


def _processes(snapshots: list[SystemSnapshot]) -> Families:
    labels = ["host", "role", "pid"]
    rss = GaugeMetricFamily("tecnocursos_process_resident_memory_bytes",
                            "Resident memory of this deployment's processes", labels=labels)
    cpu = CounterMetricFamily("tecnocursos_process_cpu_seconds", "CPU time of this deployment's processes",
                              labels=labels)
    threads = GaugeMetricFamily("tecnocursos_process_threads", "Threads", labels=labels)
    fds = GaugeMetricFamily("tecnocursos_process_open_fds", "Open file descriptors", labels=labels)
    conns = GaugeMetricFamily("tecnocursos_process_connections", "Open sockets (TCP, UDP, unix)", labels=labels)
    for snapshot in snapshots:
        for proc in snapshot.processes or []:
            values = [snapshot.host, str(proc["role"]), str(proc["pid"])]
            rss.add_metric(values, proc["rss_bytes"])
            cpu.add_metric(values, proc.get("cpu_seconds") or 0.0)
            threads.add_metric(values, proc["threads"])
            if proc.get("open_fds") is not None:
                fds.add_metric(values, proc["open_fds"])
            if proc.get("connections") is not None:
                conns.add_metric(values, proc["connections"])
    return [rss, cpu, threads, fds, conns]


def system_families() -> Families:
    """node_exporter-style series of each host's latest sample, while it is fresh."""
    snapshots = [s for s in selectors.snapshots_latest_per_host() if selectors.snapshot_is_fresh(s)]
    families: list[Metric] = [
        _gauge("node_load1", "Load average over 1 minute", snapshots, "load_1"),
        _gauge("node_load5", "Load average over 5 minutes", snapshots, "load_5"),
        _gauge("node_load15", "Load average over 15 minutes", snapshots, "load_15"),
        _gauge("node_memory_MemTotal_bytes", "Physical memory", snapshots, "memory_total_bytes"),
        _gauge("node_memory_MemAvailable_bytes", "Memory available without swapping", snapshots,
               "memory_available_bytes"),
        _gauge("node_memory_Cached_bytes", "Page cache", snapshots, "memory_cached_bytes"),
        _gauge("node_memory_SwapTotal_bytes", "Swap space", snapshots, "swap_total_bytes"),
        _gauge("tecnocursos_cpu_busy_ratio", "CPU busy over the last collection interval (0-1)", snapshots,
               "cpu_percent", 0.01),
        _gauge("tecnocursos_collection_cpu_seconds", "CPU time of the last collection", snapshots,
               "collection_cpu_seconds"),
    ]
    swap_free = GaugeMetricFamily("node_memory_SwapFree_bytes", "Free swap", labels=["host"])
    timestamp = GaugeMetricFamily("tecnocursos_last_collection_timestamp_seconds", "When the latest sample was taken",
                                  labels=["host"])
    for snapshot in snapshots:
        if snapshot.swap_total_bytes is not None and snapshot.swap_used_bytes is not None:
            swap_free.add_metric([snapshot.host], snapshot.swap_total_bytes - snapshot.swap_used_bytes)
        timestamp.add_metric([snapshot.host], snapshot.timestamp.timestamp())
    return [*families, swap_free, timestamp, *_node_counters(snapshots), *_filesystems(snapshots),
            *_processes(snapshots)]


def control_families() -> Families:
    state = redis_store.control_state()
    return [GaugeMetricFamily("tecnocursos_monitoring_collecting", "1 while collection runs, 0 when paused",
                              value=1 if state["collecting"] else 0)]


SOURCES: dict[str, Callable[[], Families]] = {
    "http": lambda: http_families(selectors.totals()),
    "tasks": lambda: task_families(selectors.totals()),
    "celery": celery_families,
    "websocket": websocket_families,
    "cache": cache_families,
    "system": system_families,
    "control": control_families,
}


class _Scrape(Collector):
    """Every source once; one that fails is reported by `tecnocursos_scrape_error`, not a 500."""

    def __init__(self, sources: dict[str, Callable[[], Families]]) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily("tecnocursos_scrape_error", "1 when a source could not be read", labels=["source"])
        for name, source in self.sources.items():
            try:
                families = list(source())
            except Exception:
                logger.warning("metrics: source %s failed", name, exc_info=True)
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from families
        yield errors


def sources() -> dict[str, Callable[[], Families]]:
    extra = {path: import_string(path) for path in getattr(settings, "MONITORING_EXPORTERS", [])}
    return {**SOURCES, **extra}


def render(extra_sources: dict[str, Any] | None = None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape({**sources(), **(extra_sources or {})}))
    return generate_latest(registry)
