"""Which runs to keep, like restic's `forget --keep-*`.

Runs are taken newest first. keep-last N keeps the N newest; keep-daily N keeps the newest
run of each of the N most recent days that have runs (weekly: ISO weeks, monthly: calendar
months); keep-within D keeps every run within D of the newest run (not of now: backups that
stopped do not age out). A run is kept if any rule keeps it, and then so is every run it
depends on (its parent, transitively): a kept incremental never loses its base. An empty
policy keeps everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo


@dataclass(frozen=True)
class Snapshot:
    id: int
    time: datetime
    parent_id: int | None = None


@dataclass(frozen=True)
class Policy:
    keep_last: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_within: timedelta | None = None

    def __post_init__(self) -> None:
        for name in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if self.keep_within is not None and self.keep_within < timedelta(0):
            raise ValueError("keep_within cannot be negative")

    @property
    def empty(self) -> bool:
        return not (self.keep_last or self.keep_daily or self.keep_weekly or self.keep_monthly or self.keep_within)


@dataclass
class Decision:
    keep: dict[int, list[str]] = field(default_factory=dict)  # id -> reasons
    remove: list[int] = field(default_factory=list)  # newest first


def _buckets(tz: tzinfo | None) -> list[tuple[str, Callable[[datetime], object]]]:
    def local(t: datetime) -> datetime:
        return t.astimezone(tz) if tz is not None else t

    return [
        ("last", lambda t: t),  # every run is its own bucket
        ("daily", lambda t: local(t).date()),
        ("weekly", lambda t: local(t).isocalendar()[:2]),
        ("monthly", lambda t: (local(t).year, local(t).month)),
    ]


def forget(snapshots: Iterable[Snapshot], policy: Policy, *, tz: tzinfo | None = None) -> Decision:
    ordered = sorted(snapshots, key=lambda s: (s.time, s.id), reverse=True)
    decision = Decision()
    if policy.empty:
        decision.keep = {s.id: ["empty policy: nothing is forgotten"] for s in ordered}
        return decision
    counts = {"last": policy.keep_last, "daily": policy.keep_daily, "weekly": policy.keep_weekly,
              "monthly": policy.keep_monthly}
    last_bucket: dict[str, object] = {}
    newest = ordered[0].time if ordered else None
    for snap in ordered:
        for name, bucket_of in _buckets(tz):
            if counts[name] <= 0:
                continue
            bucket = bucket_of(snap.time) if name != "last" else snap.id
            if name not in last_bucket or last_bucket[name] != bucket:
                last_bucket[name] = bucket
                counts[name] -= 1
                decision.keep.setdefault(snap.id, []).append(f"{name} snapshot")
        if policy.keep_within is not None and newest is not None and snap.time >= newest - policy.keep_within:
            decision.keep.setdefault(snap.id, []).append(f"within {_span(policy.keep_within)} of the newest")
    _keep_dependencies(ordered, decision)
    decision.remove = [s.id for s in ordered if s.id not in decision.keep]
    return decision


def _span(delta: timedelta) -> str:
    if delta.seconds == 0 and delta.microseconds == 0:
        return f"{delta.days} day{'s' if delta.days != 1 else ''}"
    return str(delta)


def _keep_dependencies(ordered: list[Snapshot], decision: Decision) -> None:
    parents = {s.id: s.parent_id for s in ordered}
    done: set[int] = set()
    for snap_id in list(decision.keep):
        child, parent = snap_id, parents.get(snap_id)
        while parent is not None and child not in done:
            done.add(child)
            decision.keep.setdefault(parent, []).append(f"needed by run {child}")
            child, parent = parent, parents.get(parent)
