"""The metrics export: public metric names, the step a range is read at, and the rows of a
range produced one bounded time window at a time (memory does not grow with the range).

Values come from monitoring's stored samples and rollups through its selectors:
system series from snapshots (step raw) or from the minute/hour rollups (averaged over
hosts); request series always from request rollups (their finest grain is the minute).
Per minute, the minutes not rolled up yet (the current one above all) come from the
snapshots and from Redis, so that a fresh install's export is not empty.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from asgiref.sync import sync_to_async

from analytics.periods import MAX_SPAN
from monitoring import histogram
from monitoring import selectors as monitoring
from monitoring.catalog import PUBLIC_SNAPSHOT_SERIES
from monitoring.models import Tier
from tecnocursos.lib.timefmt import utc_iso

# Public name -> quantile, for the latency series; None for the two rates.
REQUEST_METRICS: dict[str, float | None] = {
    "requests.per_s": None,
    "requests.errors_per_s": None,
    "latency.p50_ms": 0.5,
    "latency.p95_ms": 0.95,
    "latency.p99_ms": 0.99,
}
METRICS: tuple[str, ...] = (*PUBLIC_SNAPSHOT_SERIES, *REQUEST_METRICS)
STEPS = ("auto", "raw", "minute", "hour")
MAX_RANGE = MAX_SPAN  # the reports' limit too
RAW_MAX = timedelta(hours=6)
MINUTE_MAX = timedelta(days=3)
# One window is read, sorted and written at a time: at most ~360 instants per window.
WINDOWS = {"raw": timedelta(hours=1), "minute": timedelta(hours=6), "hour": timedelta(days=15)}
BUCKET_SECONDS = {Tier.MINUTE: 60.0, Tier.HOUR: 3600.0}

Row = tuple[datetime, str, float]


def step_for(start: datetime, end: datetime, step: str = "auto") -> str:
    if step != "auto":
        return step
    span = end - start
    return "raw" if span <= RAW_MAX else "minute" if span <= MINUTE_MAX else "hour"


@dataclass(frozen=True)
class ExportQuery:
    start: datetime
    end: datetime
    metrics: tuple[str, ...]
    step: str  # resolved: raw, minute or hour


def _system_rows(query: ExportQuery, start: datetime, end: datetime) -> list[Row]:
    wanted = sorted(name for name in query.metrics if name in PUBLIC_SNAPSHOT_SERIES)
    if not wanted:
        return []
    if query.step == "raw":
        columns = [PUBLIC_SNAPSHOT_SERIES[name] for name in wanted]
        return [(at, name, value) for at, values in monitoring.snapshot_values(columns=columns, start=start, end=end)
                for name in wanted if (value := values[PUBLIC_SNAPSHOT_SERIES[name]]) is not None]
    public = {column: name for name, column in PUBLIC_SNAPSHOT_SERIES.items()}
    buckets = monitoring.metric_buckets(metrics=[PUBLIC_SNAPSHOT_SERIES[n] for n in wanted], start=start, end=end,
                                        tier=query.step, pending=True)
    return [(bucket, public[metric], value) for bucket, metric, value in buckets if value is not None]


def _request_rows(query: ExportQuery, start: datetime, end: datetime) -> list[Row]:
    wanted = sorted(name for name in query.metrics if name in REQUEST_METRICS)
    if not wanted:
        return []
    tier = Tier.HOUR if query.step == "hour" else Tier.MINUTE  # no finer request data than the minute
    now = time.time()
    rows: list[Row] = []
    for entry in monitoring.request_buckets(start=start, end=end, tier=tier, pending=True):
        seconds = _seconds_covered(entry["bucket"], tier, now)
        for name in wanted:
            q = REQUEST_METRICS[name]
            if name == "requests.per_s":
                value: float | None = entry["requests"] / seconds
            elif name == "requests.errors_per_s":
                value = entry["server_errors"] / seconds
            else:
                assert q is not None
                found = histogram.quantile(histogram.LATENCY_BOUNDS, entry["histogram"], q)
                value = None if found is None else found * 1000
            if value is not None:
                rows.append((entry["bucket"], name, value))
    return rows


def _seconds_covered(bucket: datetime, tier: Tier, now: float) -> float:
    """What a bucket's rates are per: its length, or for the current minute (read live) the part gone by."""
    if tier == Tier.HOUR:
        return BUCKET_SECONDS[tier]
    return min(BUCKET_SECONDS[tier], max(1.0, now - bucket.timestamp()))


def windows(query: ExportQuery) -> Iterator[tuple[datetime, datetime]]:
    size = WINDOWS[query.step]
    at = query.start
    while at < query.end:
        yield at, min(at + size, query.end)
        at += size


def row_batches(query: ExportQuery) -> Iterator[list[Row]]:
    """The rows of the range, by timestamp then metric, one window per batch (empty ones skipped)."""
    for start, end in windows(query):
        rows = _system_rows(query, start, end) + _request_rows(query, start, end)
        if rows:
            rows.sort(key=lambda row: (row[0], row[1]))
            yield rows


def _value(value: float) -> float:
    return round(value, 6)


def encode_csv(batches: Iterator[list[Row]]) -> Iterator[bytes]:
    yield b"timestamp,metric,value\r\n"
    for batch in batches:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerows((utc_iso(at), name, repr(_value(value))) for at, name, value in batch)
        yield out.getvalue().encode()


def encode_json(batches: Iterator[list[Row]]) -> Iterator[bytes]:
    yield b"["
    first = True
    for batch in batches:
        parts = [json.dumps({"timestamp": utc_iso(at), "metric": name, "value": _value(value)})
                 for at, name, value in batch]
        yield (("" if first else ",") + ",".join(parts)).encode()
        first = False
    yield b"]"


class Series(TypedDict):
    timestamps: list[float]  # UNIX seconds, oldest first
    values: dict[str, list[float | None]]  # per metric, one value or None per timestamp


def columns(batches: Iterator[list[Row]]) -> Series:
    """The rows as columns (what uPlot draws), with the values the JSON download has."""
    series = Series(timestamps=[], values={})
    index: dict[datetime, int] = {}
    for batch in batches:
        for at, name, value in batch:
            i = index.get(at)
            if i is None:
                i = index[at] = len(series["timestamps"])
                series["timestamps"].append(at.timestamp())
            column = series["values"].setdefault(name, [])
            column.extend([None] * (i + 1 - len(column)))
            column[i] = _value(value)
    for column in series["values"].values():
        column.extend([None] * (len(series["timestamps"]) - len(column)))
    return series


def encode(query: ExportQuery, fmt: str) -> Iterator[bytes]:
    return (encode_csv if fmt == "csv" else encode_json)(row_batches(query))


async def as_async(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """For ASGI servers: Django would otherwise read a sync iterator whole into a list before sending."""
    done = object()
    step = sync_to_async(lambda: next(chunks, done), thread_sensitive=True)
    while (chunk := await step()) is not done:
        assert isinstance(chunk, bytes)
        yield chunk


def filename(query: ExportQuery, fmt: str) -> str:
    return f"metrics-{query.start:%Y%m%dT%H%M%SZ}-{query.end:%Y%m%dT%H%M%SZ}.{fmt}"
