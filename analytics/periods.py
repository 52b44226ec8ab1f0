"""The period a report covers and the one it is compared with (no Django)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

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

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - self.span, self.start)

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).date()

    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(count)]

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat().replace("+00:00", "Z"),
                "end": self.end.isoformat().replace("+00:00", "Z")}


def period_of(*, days: int | None = None, start: datetime | None = None, end: datetime | None = None,
              now: datetime | None = None) -> Period:
    """`days`: from midnight UTC N-1 days ago until now; or [start, end) (end defaults to now).

    ValueError with a message for a client when the combination is wrong.
    """
    now = now or datetime.now(tz=UTC)
    if days is not None and (start is not None or end is not None):
        raise ValueError("Give either days or start/end, not both.")
    if start is None and end is not None:
        raise ValueError("end needs a start.")
    if start is None:
        days = DEFAULT_DAYS if days is None else days
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be between 1 and {MAX_DAYS}.")
        midnight = datetime.combine(now.date(), time(), tzinfo=UTC)
        return Period(midnight - timedelta(days=days - 1), now)
    end = end or now
    if start >= end:
        raise ValueError("start must be before end.")
    if end - start > MAX_SPAN:
        raise ValueError("The range may not exceed 366 days.")
    if start < datetime(1971, 1, 1, tzinfo=UTC) + (end - start):
        raise ValueError("start is too early.")  # the previous period must exist too
    return Period(start, end)
