"""Moments as the API, the exports, the sockets and the webhooks write them (no Django)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def utc_iso(moment: datetime) -> str: ...


@overload
def utc_iso(moment: None) -> None: ...


def utc_iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`: `2026-11-25T17:19:38Z`, `...:38.250000Z` (the fraction only when non-zero).

    An aware moment in another zone is converted (a naive one is taken as local time, Python's rule;
    Django hands out aware ones); None, an unknown moment, stays None.
    """
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
