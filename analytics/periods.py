"""The period a report covers and the one it is compared with (no Django)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

MAX_DAYS = 365
DEFAULT_DAYS = 7
MAX_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @cached_property  # a report reads it several times (its figures, its period, the change)
    def previous(self) -> Period:
        """The period of the same length just before this one (cut at the calendar's start)."""
        earliest = datetime(1, 1, 2, tzinfo=UTC)
        return Period(self.start - self.span if self.start - earliest > self.span else earliest, self.start)

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).date()

    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(count)]


def period_of(*, days: int | None = None, start: datetime | None = None, end: datetime | None = None,
              now: datetime | None = None) -> Period:
    """The period of a report's query; ValueError with a message for the client when it is wrong.

    - nothing, or `days` alone: from midnight UTC N-1 days ago (N = 7 by default) until the end of
      the current hour: whole hours, so that hour rollups cover it (and the previous period) exactly;
    - `start` and `end`: [start, end); `start` alone ends now;
    - `days` with `start` or with `end`: the N days from `start`, or the N days before `end`.
    """
    now = now or datetime.now(tz=UTC)
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}.")
    if days is not None and start is not None and end is not None:
        raise ValueError("Give days with start or with end, not with both.")
    try:
        if start is None and end is None:
            midnight = datetime.combine(now.date(), time(), tzinfo=UTC)
            end_of_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            return Period(midnight - timedelta(days=(days or DEFAULT_DAYS) - 1), end_of_hour)
        if start is None:
            assert end is not None
            start = end - timedelta(days=days or DEFAULT_DAYS)
        elif days is not None:
            end = start + timedelta(days=days)
    except OverflowError as exc:
        raise ValueError("The range is out of the calendar.") from exc
    end = end or now
    if start >= end:
        raise ValueError("start must be before end.")
    if end - start > MAX_SPAN:
        raise ValueError("The range may not exceed 366 days.")
    return Period(start, end)
