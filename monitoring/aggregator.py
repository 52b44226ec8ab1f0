"""In-process aggregation of request, task and WebSocket counts (no Django).

The hot path adds to dictionaries under a lock: no I/O, no allocation beyond a new key.
A flush `drain()`s the batch and writes it as Redis hash increments (`fields()`); every
process adds to the same hashes, so the figures are those of the whole deployment.

Hash fields (`|`-separated; labels have `|` replaced):
  h|n|METHOD|ROUTE|STATUS  requests          t|n|TASK|STATE  task runs
  h|d|METHOD|ROUTE         duration, µs      t|d|TASK        runtime, µs
  h|b|METHOD|ROUTE|i       latency bucket i  t|b|TASK|i      runtime bucket i
  h|z|METHOD|ROUTE         response bytes    u|USER_ID       requests of a user
  h|q|METHOD|ROUTE         database queries  w|NAME|...      WebSocket event counters
  h|t|METHOD|ROUTE         database time, µs
  s|USER_ID                a user with an open WebSocket that minute (set by the collector)

Statements a request repeated (the N+1 pattern) are kept apart, per day rather than per
minute, in their own hashes (`repeat_fields`): METHOD|ROUTE|SHAPE_KEY|r requests that
repeated that shape, ...|x its executions in those requests; the shapes' text by key.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from monitoring import histogram
from monitoring.histogram import LATENCY_BOUNDS
from monitoring.insights import sql_shape

SEP = "|"
MAX_LABEL = 200


def label(value: str) -> str:
    return value.replace(SEP, "/")[:MAX_LABEL]


def minute_of(at: float) -> int:
    return int(at // 60) * 60


@dataclass(slots=True)
class RequestStats:
    count: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    duration_us: int = 0
    histogram: list[int] = field(default_factory=lambda: histogram.empty(histogram.LATENCY_BOUNDS))
    response_bytes: int = 0
    db_queries: int = 0
    db_time_us: int = 0

    def add(self, other: RequestStats) -> None:
        self.count += other.count
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.duration_us += other.duration_us
        histogram.merge(self.histogram, other.histogram)
        self.response_bytes += other.response_bytes
        self.db_queries += other.db_queries
        self.db_time_us += other.db_time_us


def quantile_ms(counts: Sequence[int], q: float) -> float | None:
    """The q-quantile of a latency histogram in ms (interpolated within its bucket), to the µs."""
    seconds = histogram.quantile(LATENCY_BOUNDS, counts, q)
    return None if seconds is None else round(seconds * 1000, 3)


def latency_ms(stats: RequestStats) -> dict[str, float | None]:
    """The latency block of every request summary (monitoring's and the analytics reports')."""
    return {"p50": quantile_ms(stats.histogram, 0.5), "p95": quantile_ms(stats.histogram, 0.95),
            "p99": quantile_ms(stats.histogram, 0.99),
            "avg": round(stats.duration_us / stats.count / 1000, 3) if stats.count else None}


@dataclass(slots=True)
class TaskStats:
    states: dict[str, int] = field(default_factory=dict)
    runtime_us: int = 0
    histogram: list[int] = field(default_factory=lambda: histogram.empty(histogram.TASK_BOUNDS))

    @property
    def count(self) -> int:
        return sum(self.states.values())

    def add(self, other: TaskStats) -> None:
        for state, count in other.states.items():
            self.states[state] = self.states.get(state, 0) + count
        self.runtime_us += other.runtime_us
        histogram.merge(self.histogram, other.histogram)


@dataclass
class Batch:
    requests: dict[tuple[int, str, str], RequestStats] = field(default_factory=dict)  # (minute, method, route)
    tasks: dict[tuple[int, str], TaskStats] = field(default_factory=dict)  # (minute, task)
    users: dict[tuple[int, int], int] = field(default_factory=dict)  # (minute, user id) -> requests
    events: dict[str, int] = field(default_factory=dict)  # "closed|1000" -> count
    # (day, method, route, shape key) -> [requests that repeated it, its executions in them]
    repeats: dict[tuple[int, str, str, str], list[int]] = field(default_factory=dict)
    shapes: dict[str, str] = field(default_factory=dict)  # shape key -> shape

    def __bool__(self) -> bool:
        return bool(self.requests or self.tasks or self.users or self.events or self.repeats)

    def merge(self, other: Batch, *, oldest_minute: int | None = None) -> None:
        def keep(minute: int) -> bool:
            return oldest_minute is None or minute >= oldest_minute

        for key, stats in other.requests.items():
            if keep(key[0]):
                self.requests.setdefault(key, RequestStats()).add(stats)
        for task_key, task_stats in other.tasks.items():
            if keep(task_key[0]):
                self.tasks.setdefault(task_key, TaskStats()).add(task_stats)
        for user_key, count in other.users.items():
            if keep(user_key[0]):
                self.users[user_key] = self.users.get(user_key, 0) + count
        for name, count in other.events.items():
            self.events[name] = self.events.get(name, 0) + count
        for repeat_key, (requests, executions) in other.repeats.items():
            if keep(repeat_key[0] * 86400 + 86399):
                counts = self.repeats.setdefault(repeat_key, [0, 0])
                counts[0] += requests
                counts[1] += executions
        self.shapes.update(other.shapes)

    def minute_fields(self) -> dict[int, dict[str, int]]:
        """Per minute: the hash increments of that minute's requests, tasks and users."""
        minutes: dict[int, dict[str, int]] = {}
        for (minute, method, route), stats in self.requests.items():
            _request_fields(minutes.setdefault(minute, {}), method, route, stats)
        for (minute, task), task_stats in self.tasks.items():
            _task_fields(minutes.setdefault(minute, {}), task, task_stats)
        for (minute, user_id), count in self.users.items():
            _add(minutes.setdefault(minute, {}), f"u{SEP}{user_id}", count)
        return minutes

    def total_fields(self) -> dict[str, int]:
        """The increments of the all-time totals (what /metrics exposes): no per-user fields."""
        totals: dict[str, int] = {}
        for (_minute, method, route), stats in self.requests.items():
            _request_fields(totals, method, route, stats)
        for (_minute, task), task_stats in self.tasks.items():
            _task_fields(totals, task, task_stats)
        return totals

    def event_fields(self) -> dict[str, int]:
        return {f"w{SEP}{name}": count for name, count in self.events.items() if count}

    def repeat_fields(self) -> dict[int, dict[str, int]]:
        """Per day: METHOD|ROUTE|KEY|r (requests) and ...|x (executions) increments."""
        days: dict[int, dict[str, int]] = {}
        for (day, method, route, shape_key), (requests, executions) in self.repeats.items():
            fields = days.setdefault(day, {})
            _add(fields, f"{method}{SEP}{route}{SEP}{shape_key}{SEP}r", requests)
            _add(fields, f"{method}{SEP}{route}{SEP}{shape_key}{SEP}x", executions)
        return days


def _add(fields: dict[str, int], name: str, value: int) -> None:
    if value:
        fields[name] = fields.get(name, 0) + value


def _request_fields(fields: dict[str, int], method: str, route: str, stats: RequestStats) -> None:
    key = f"{method}{SEP}{route}"
    for status, count in stats.statuses.items():
        _add(fields, f"h{SEP}n{SEP}{key}{SEP}{status}", count)
    _add(fields, f"h{SEP}d{SEP}{key}", stats.duration_us)
    for i, count in enumerate(stats.histogram):
        _add(fields, f"h{SEP}b{SEP}{key}{SEP}{i}", count)
    _add(fields, f"h{SEP}z{SEP}{key}", stats.response_bytes)
    _add(fields, f"h{SEP}q{SEP}{key}", stats.db_queries)
    _add(fields, f"h{SEP}t{SEP}{key}", stats.db_time_us)


def _task_fields(fields: dict[str, int], task: str, stats: TaskStats) -> None:
    for state, count in stats.states.items():
        _add(fields, f"t{SEP}n{SEP}{task}{SEP}{state}", count)
    _add(fields, f"t{SEP}d{SEP}{task}", stats.runtime_us)
    for i, count in enumerate(stats.histogram):
        _add(fields, f"t{SEP}b{SEP}{task}{SEP}{i}", count)


@dataclass
class Parsed:
    """A hash read back: per (method, route) and per task, plus users and events."""

    requests: dict[tuple[str, str], RequestStats] = field(default_factory=dict)
    tasks: dict[str, TaskStats] = field(default_factory=dict)
    users: dict[int, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)  # users with an open WebSocket (redis_store.mark_seen)


def parse(fields: Mapping[str, str | int]) -> Parsed:
    """Decode hash fields; fields it does not know are skipped (written by a newer version)."""
    parsed = Parsed()
    for name, raw in fields.items():
        try:
            value = int(raw)
            _parse_field(parsed, name.split(SEP), value)
        except (ValueError, IndexError):
            continue
    return parsed


def _parse_field(parsed: Parsed, parts: list[str], value: int) -> None:
    family = parts[0]
    if family == "h" and len(parts) >= 4:
        stats = parsed.requests.setdefault((parts[2], parts[3]), RequestStats())
        _parse_request(stats, parts[1], parts[4:], value)
    elif family == "t" and len(parts) >= 3:
        _parse_task(parsed.tasks.setdefault(parts[2], TaskStats()), parts[1], parts[3:], value)
    elif family == "u" and len(parts) == 2:
        parsed.users[int(parts[1])] = parsed.users.get(int(parts[1]), 0) + value
    elif family == "s" and len(parts) == 2:
        parsed.seen.add(int(parts[1]))
    elif family == "w" and len(parts) >= 2:
        name = SEP.join(parts[1:])
        parsed.events[name] = parsed.events.get(name, 0) + value


def _parse_request(stats: RequestStats, kind: str, rest: list[str], value: int) -> None:
    if kind == "n":
        status = int(rest[0])
        stats.statuses[status] = stats.statuses.get(status, 0) + value
        stats.count += value
    elif kind == "d":
        stats.duration_us += value
    elif kind == "b":
        index = int(rest[0])
        if 0 <= index < len(stats.histogram):
            stats.histogram[index] += value
    elif kind == "z":
        stats.response_bytes += value
    elif kind == "q":
        stats.db_queries += value
    elif kind == "t":
        stats.db_time_us += value


def _parse_task(stats: TaskStats, kind: str, rest: list[str], value: int) -> None:
    if kind == "n":
        stats.states[rest[0]] = stats.states.get(rest[0], 0) + value
    elif kind == "d":
        stats.runtime_us += value
    elif kind == "b":
        index = int(rest[0])
        if 0 <= index < len(stats.histogram):
            stats.histogram[index] += value


class Aggregator:
    """The process's counts since the last flush. Thread-safe; cheap to record into."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._batch = Batch()

    def record_request(
        self, method: str, route: str, status: int, seconds: float, response_bytes: int = 0,
        user_id: int | None = None, db_queries: int = 0, db_seconds: float = 0.0,
    ) -> None:
        # Positional on the hot path: the middleware calls it for every request.
        minute = int(self.clock() // 60) * 60
        bucket = bisect_left(LATENCY_BOUNDS, seconds)
        key = (minute, method, route)
        with self._lock:
            batch = self._batch
            stats = batch.requests.get(key)
            if stats is None:
                stats = batch.requests[key] = RequestStats()
            stats.count += 1
            statuses = stats.statuses
            statuses[status] = statuses.get(status, 0) + 1
            stats.duration_us += int(seconds * 1_000_000)
            stats.histogram[bucket] += 1
            stats.response_bytes += response_bytes
            if db_queries:
                stats.db_queries += db_queries
                stats.db_time_us += int(db_seconds * 1_000_000)
            if user_id is not None:
                user_key = (minute, user_id)
                batch.users[user_key] = batch.users.get(user_key, 0) + 1

    def record_task(self, *, task: str, state: str, seconds: float | None) -> None:
        key = (minute_of(self.clock()), label(task))
        with self._lock:
            stats = self._batch.tasks.get(key)
            if stats is None:
                stats = self._batch.tasks[key] = TaskStats()
            stats.states[state] = stats.states.get(state, 0) + 1
            if seconds is not None:
                stats.runtime_us += int(seconds * 1_000_000)
                stats.histogram[histogram.bucket_index(histogram.TASK_BOUNDS, seconds)] += 1

    def record_repeated_queries(self, method: str, route: str, statements: Mapping[str, int]) -> None:
        """A request that ran each of `statements` several times (text -> executions)."""
        per_shape: dict[str, int] = {}
        shapes: dict[str, str] = {}
        for sql, count in statements.items():
            text = sql_shape.shape(sql)
            shape_key = sql_shape.key(text)
            shapes[shape_key] = text
            per_shape[shape_key] = per_shape.get(shape_key, 0) + count
        day = int(self.clock() // 86400)
        with self._lock:
            for shape_key, count in per_shape.items():
                counts = self._batch.repeats.setdefault((day, method, route, shape_key), [0, 0])
                counts[0] += 1
                counts[1] += count
            self._batch.shapes.update(shapes)

    def record_event(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._batch.events[name] = self._batch.events.get(name, 0) + amount

    def drain(self) -> Batch:
        with self._lock:
            batch, self._batch = self._batch, Batch()
        return batch

    def restore(self, batch: Batch, *, max_age_seconds: float) -> None:
        """Put back a batch that could not be flushed; minutes older than the age are dropped."""
        oldest = minute_of(self.clock() - max_age_seconds)
        with self._lock:
            self._batch.merge(batch, oldest_minute=oldest)

    def discard(self) -> None:
        with self._lock:
            self._batch = Batch()
