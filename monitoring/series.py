"""Summaries of sampled series: count, sum, min and max (no Django).

Minute rollups summarize the snapshots of a minute; hour rollups merge minute rollups.
Unknown values (None) are skipped, so a series' count may be lower than the number of
samples (rates are unknown in a first sample).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Stat:
    count: int = 0
    sum: float = 0.0
    min: float = float("inf")
    max: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.sum += value
        self.min = min(self.min, value)
        self.max = max(self.max, value)

    def merge(self, other: Stat) -> None:
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    @property
    def avg(self) -> float | None:
        return self.sum / self.count if self.count else None


SeriesKey = tuple[str, str]  # (metric, labels)


def labelled_values(
    mounts: Sequence[Mapping[str, Any]], processes: Sequence[Mapping[str, Any]]
) -> dict[SeriesKey, float]:
    """The labelled series of one snapshot: space used per mount; memory and CPU per process role."""
    values: dict[SeriesKey, float] = {}
    for mount in mounts:
        if mount.get("percent") is not None and mount.get("mountpoint"):
            values[("disk_mount_percent", str(mount["mountpoint"]))] = float(mount["percent"])
    for proc in processes:
        role = str(proc.get("role") or "other")
        for metric, field in (("process_role_rss_bytes", "rss_bytes"), ("process_role_cpu_percent", "cpu_percent")):
            if proc.get(field) is not None:
                values[(metric, role)] = values.get((metric, role), 0.0) + float(proc[field])
    return values


def summarize(snapshots: Iterable[Mapping[str, Any]], names: Sequence[str]) -> dict[SeriesKey, Stat]:
    """Per series (plain names, then the labelled ones), the summary over `snapshots`."""
    stats: dict[SeriesKey, Stat] = {}
    for snapshot in snapshots:
        for name in names:
            value = snapshot.get(name)
            if value is not None:
                stats.setdefault((name, ""), Stat()).add(float(value))
        for key, value in labelled_values(snapshot.get("mounts") or [], snapshot.get("processes") or []).items():
            stats.setdefault(key, Stat()).add(value)
    return stats
