from __future__ import annotations

from typing import Any

from rest_framework import serializers

from monitoring.processes import ROLES


def _float(source: str, help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(source=source, allow_null=True, read_only=True, help_text=help_text)


class LoadSerializer(serializers.Serializer):
    one = _float("load_1", "1 minute")
    five = _float("load_5", "5 minutes")
    fifteen = _float("load_15", "15 minutes")


class CpuSerializer(serializers.Serializer):
    percent = _float("cpu_percent", "Busy over the interval, all cores (cpu_times deltas); null in a first sample")
    user = _float("cpu_user_percent")
    system = _float("cpu_system_percent")
    iowait = _float("cpu_iowait_percent")
    steal = _float("cpu_steal_percent")
    count = _float("cpu_count", "Logical cores")
    frequency_mhz = _float("cpu_frequency_mhz")
    load = LoadSerializer(source="*", read_only=True)


class MemorySerializer(serializers.Serializer):
    percent = _float("memory_percent")
    total = _float("memory_total_bytes", "Bytes")
    available = _float("memory_available_bytes", "Bytes")
    used = _float("memory_used_bytes", "Bytes")
    cached = _float("memory_cached_bytes", "Bytes")


class SwapSerializer(serializers.Serializer):
    percent = _float("swap_percent")
    total = _float("swap_total_bytes")
    used = _float("swap_used_bytes")
    in_bytes_per_second = _float("swap_in_bytes_per_second")
    out_bytes_per_second = _float("swap_out_bytes_per_second")


class MountSerializer(serializers.Serializer):
    mountpoint = serializers.CharField()
    device = serializers.CharField(allow_blank=True)
    fstype = serializers.CharField(allow_blank=True)
    total = serializers.FloatField()
    used = serializers.FloatField()
    free = serializers.FloatField()
    percent = serializers.FloatField()


class DiskSerializer(serializers.Serializer):
    percent = _float("disk_percent", "Space used on the mount holding the data directory")
    free = _float("disk_free_bytes", "Bytes free on that mount")
    read_bytes_per_second = _float("disk_read_bytes_per_second")
    write_bytes_per_second = _float("disk_write_bytes_per_second")
    reads_per_second = _float("disk_reads_per_second")
    writes_per_second = _float("disk_writes_per_second")
    mounts = MountSerializer(many=True, read_only=True)


class InterfaceSerializer(serializers.Serializer):
    name = serializers.CharField()
    receive_bytes_per_second = serializers.FloatField(allow_null=True)
    transmit_bytes_per_second = serializers.FloatField(allow_null=True)
    receive_packets_per_second = serializers.FloatField(allow_null=True)
    transmit_packets_per_second = serializers.FloatField(allow_null=True)
    receive_errors_per_second = serializers.FloatField(allow_null=True)
    transmit_errors_per_second = serializers.FloatField(allow_null=True)
    receive_drops_per_second = serializers.FloatField(allow_null=True)
    transmit_drops_per_second = serializers.FloatField(allow_null=True)


class NetworkSerializer(serializers.Serializer):
    receive_bytes_per_second = _float("network_receive_bytes_per_second", "All interfaces but loopback")
    transmit_bytes_per_second = _float("network_transmit_bytes_per_second")
    receive_packets_per_second = _float("network_receive_packets_per_second")
    transmit_packets_per_second = _float("network_transmit_packets_per_second")
    errors_per_second = _float("network_errors_per_second")
    drops_per_second = _float("network_drops_per_second")
    interfaces = InterfaceSerializer(many=True, read_only=True)


class ProcessDetailSerializer(serializers.Serializer):
    pid = serializers.IntegerField()
    role = serializers.ChoiceField(choices=list(ROLES))
    name = serializers.CharField()
    rss_bytes = serializers.FloatField()
    cpu_percent = serializers.FloatField(allow_null=True, help_text="% of one core over the interval")
    cpu_seconds = serializers.FloatField(required=False)
    threads = serializers.IntegerField()
    open_fds = serializers.IntegerField(allow_null=True)
    connections = serializers.IntegerField(allow_null=True)
    started_at = serializers.FloatField(help_text="UNIX time")


class ProcessSerializer(serializers.Serializer):
    count = _float("process_count", "This deployment's processes found")
    rss_bytes = _float("process_rss_bytes")
    cpu_percent = _float("process_cpu_percent", "% of one core")
    threads = _float("process_threads")
    open_fds = _float("process_open_fds")
    connections = _float("process_connections")
    processes = ProcessDetailSerializer(many=True, read_only=True)


class SystemMetricsSerializer(serializers.Serializer):
    """The latest sample (per CONTRACT: timestamp, cpu.percent, memory.percent, disk.percent, network, process)."""

    timestamp = serializers.DateTimeField(read_only=True)
    host = serializers.CharField(read_only=True)
    interval_seconds = serializers.FloatField(read_only=True, allow_null=True,
                                              help_text="Since the previous sample; null for a first sample")
    age_seconds = serializers.SerializerMethodField(help_text="How old the sample is")
    stale = serializers.SerializerMethodField(help_text="True when older than three collection intervals")
    cpu = CpuSerializer(source="*", read_only=True)
    memory = MemorySerializer(source="*", read_only=True)
    swap = SwapSerializer(source="*", read_only=True)
    disk = DiskSerializer(source="*", read_only=True)
    network = NetworkSerializer(source="*", read_only=True)
    process = ProcessSerializer(source="*", read_only=True)
    celery_queue_length = serializers.FloatField(read_only=True, allow_null=True)
    websocket_connections = serializers.FloatField(read_only=True, allow_null=True)
    collection_cpu_seconds = serializers.FloatField(read_only=True, allow_null=True)

    def get_age_seconds(self, snapshot: Any) -> float:
        from monitoring.selectors import snapshot_age_seconds

        return round(snapshot_age_seconds(snapshot), 3)

    def get_stale(self, snapshot: Any) -> bool:
        from monitoring.selectors import snapshot_is_fresh

        return not snapshot_is_fresh(snapshot)


class SystemMetricsQuerySerializer(serializers.Serializer):
    host = serializers.CharField(required=False, max_length=255, help_text="A host's latest sample (default: any)")


class ControlStateSerializer(serializers.Serializer):
    collecting = serializers.BooleanField(help_text="False while collection is paused, in every process")
    changed_at = serializers.FloatField(allow_null=True, help_text="UNIX time of the last switch")
    changed_by = serializers.CharField(allow_null=True)


class CheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "fail"])
    latency_ms = serializers.FloatField()
    critical = serializers.BooleanField(help_text="A failure makes the service unhealthy (503), not degraded")
    detail = serializers.CharField(allow_blank=True)


class ChecksSerializer(serializers.Serializer):
    database = CheckSerializer()
    cache = CheckSerializer()
    channel_layer = CheckSerializer()
    celery = CheckSerializer()
    disk = CheckSerializer()


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "degraded", "unhealthy"])
    detail = serializers.CharField(required=False, help_text="Present when unhealthy: which checks failed")
    checks = ChecksSerializer(required=False, help_text="Staff only")
    checked_at = serializers.FloatField(required=False, help_text="Staff only: UNIX time of the checks")
