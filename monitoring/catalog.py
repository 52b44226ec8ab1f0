"""Names of every measured series, with unit and meaning (no Django).

The wide snapshot row has one column per `SNAPSHOT_METRICS` entry; rollups store the
same names, plus the labelled series of `LABELLED_METRICS` (one per mount, per process
role). Alert rules, reports and exports refer to series by these names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    description: str
    label: str = ""  # the label of a labelled series ("mount", "role")


SNAPSHOT_METRICS: tuple[Metric, ...] = (
    Metric("cpu_percent", "%", "CPU busy time over the interval, all cores (from cpu_times deltas)"),
    Metric("cpu_user_percent", "%", "CPU time in user mode (nice included)"),
    Metric("cpu_system_percent", "%", "CPU time in kernel mode (irq and softirq included)"),
    Metric("cpu_iowait_percent", "%", "CPU time idle while waiting for I/O"),
    Metric("cpu_steal_percent", "%", "CPU time taken by the hypervisor"),
    Metric("cpu_count", "cores", "Logical cores"),
    Metric("cpu_frequency_mhz", "MHz", "Current CPU frequency (absent in most containers)"),
    Metric("load_1", "", "Load average over 1 minute"),
    Metric("load_5", "", "Load average over 5 minutes"),
    Metric("load_15", "", "Load average over 15 minutes"),
    Metric("memory_total_bytes", "B", "Physical memory"),
    Metric("memory_available_bytes", "B", "Memory available to new processes without swapping"),
    Metric("memory_used_bytes", "B", "Memory in use (total - free - buffers - cache)"),
    Metric("memory_cached_bytes", "B", "Page cache"),
    Metric("memory_percent", "%", "Memory in use: (total - available) / total"),
    Metric("swap_total_bytes", "B", "Swap space"),
    Metric("swap_used_bytes", "B", "Swap in use"),
    Metric("swap_percent", "%", "Swap in use"),
    Metric("swap_in_bytes_per_second", "B/s", "Swapped in from disk"),
    Metric("swap_out_bytes_per_second", "B/s", "Swapped out to disk"),
    Metric("disk_percent", "%", "Space used on the mount holding the data directory"),
    Metric("disk_free_bytes", "B", "Space free to unprivileged users on the data mount"),
    Metric("disk_read_bytes_per_second", "B/s", "Bytes read, all physical disks"),
    Metric("disk_write_bytes_per_second", "B/s", "Bytes written, all physical disks"),
    Metric("disk_reads_per_second", "1/s", "Read operations, all physical disks"),
    Metric("disk_writes_per_second", "1/s", "Write operations, all physical disks"),
    Metric("network_receive_bytes_per_second", "B/s", "Bytes received, all interfaces but loopback"),
    Metric("network_transmit_bytes_per_second", "B/s", "Bytes sent, all interfaces but loopback"),
    Metric("network_receive_packets_per_second", "1/s", "Packets received, all interfaces but loopback"),
    Metric("network_transmit_packets_per_second", "1/s", "Packets sent, all interfaces but loopback"),
    Metric("network_errors_per_second", "1/s", "Receive and transmit errors, all interfaces but loopback"),
    Metric("network_drops_per_second", "1/s", "Dropped packets in and out, all interfaces but loopback"),
    Metric("process_count", "", "Processes of this deployment found (daphne, Celery, embedded Redis)"),
    Metric("process_rss_bytes", "B", "Resident memory of this deployment's processes"),
    Metric("process_cpu_percent", "%", "CPU of this deployment's processes, % of one core"),
    Metric("process_threads", "", "Threads of this deployment's processes"),
    Metric("process_open_fds", "", "Open file descriptors of this deployment's processes"),
    Metric("process_connections", "", "Open sockets (TCP, UDP, unix) of this deployment's processes"),
    Metric("celery_queue_length", "", "Tasks waiting in the Celery queues"),
    Metric("websocket_connections", "", "Open WebSocket connections, every server process"),
    Metric("websocket_users", "", "Distinct users with an open WebSocket"),
    Metric("collection_cpu_seconds", "s", "CPU time the collector spent on this sample"),
)

LABELLED_METRICS: tuple[Metric, ...] = (
    Metric("disk_mount_percent", "%", "Space used, per mount", label="mount"),
    Metric("process_role_rss_bytes", "B", "Resident memory, per process role", label="role"),
    Metric("process_role_cpu_percent", "%", "CPU, per process role, % of one core", label="role"),
)

SNAPSHOT_METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in SNAPSHOT_METRICS)
ALL_METRICS: dict[str, Metric] = {m.name: m for m in (*SNAPSHOT_METRICS, *LABELLED_METRICS)}


# The public names of the snapshot series that the export API and the live feed use.
PUBLIC_SNAPSHOT_SERIES: dict[str, str] = {
    "cpu.percent": "cpu_percent",
    "memory.percent": "memory_percent",
    "disk.percent": "disk_percent",
    "load.1m": "load_1",
    "network.rx_bytes_per_s": "network_receive_bytes_per_second",
    "network.tx_bytes_per_s": "network_transmit_bytes_per_second",
    "websocket.connections": "websocket_connections",
}
