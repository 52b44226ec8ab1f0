"""Robust baselines for adaptive thresholds (no Django).

The band is median ± k robust standard deviations (1.4826 × MAD), with a floor so that a
very steady series does not alert on noise. Seasonality comes in once history allows it:
with `hour_of_day_after` of hourly history the baseline is that of the same hour of the day,
with `hour_of_week_after` the same hour of the same weekday (each needs `min_slot_points`
values). Before that, the recent points are the baseline. Times are UNIX seconds (UTC).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation

Point = tuple[float, float]  # (UNIX time, value)


class Seasonality(StrEnum):
    NONE = "none"
    HOUR_OF_DAY = "hour_of_day"
    HOUR_OF_WEEK = "hour_of_week"


@dataclass(frozen=True)
class BaselineConfig:
    k: float = 3.0  # half-width of the band, in robust standard deviations
    clear_k: float | None = None  # an active alert clears inside this band (default: 0.8 k)
    floor: float = 0.0  # minimum spread, in the metric's unit
    relative_floor: float = 0.05  # minimum spread as a share of |median|
    min_points: int = 30
    hour_of_day_after: float = 3 * 86400.0
    hour_of_week_after: float = 21 * 86400.0
    min_slot_points: int = 3


@dataclass(frozen=True)
class Band:
    center: float
    spread: float
    low: float
    high: float
    clear_low: float
    clear_high: float
    seasonality: Seasonality
    points: int

    def as_dict(self) -> dict[str, float | int | str]:
        return {"center": self.center, "spread": self.spread, "low": self.low, "high": self.high,
                "clear_low": self.clear_low, "clear_high": self.clear_high,
                "seasonality": str(self.seasonality), "points": self.points}


def center_and_spread(values: Sequence[float]) -> tuple[float, float]:
    """(median, 1.4826 × median absolute deviation)."""
    median = statistics.median(values)
    mad = statistics.median([abs(v - median) for v in values])
    return median, MAD_TO_SIGMA * mad


def _slot(at: float, seasonality: Seasonality) -> int:
    moment = time.gmtime(at)
    if seasonality == Seasonality.HOUR_OF_WEEK:
        return moment.tm_wday * 24 + moment.tm_hour
    return moment.tm_hour


def _seasonal(history: Sequence[Point], at: float, config: BaselineConfig) -> tuple[list[float], Seasonality]:
    if len(history) < 2:
        return [], Seasonality.NONE
    span = max(t for t, _ in history) - min(t for t, _ in history)
    for seasonality, needed in ((Seasonality.HOUR_OF_WEEK, config.hour_of_week_after),
                                (Seasonality.HOUR_OF_DAY, config.hour_of_day_after)):
        if span >= needed:
            slot = _slot(at, seasonality)
            values = [v for t, v in history if _slot(t, seasonality) == slot]
            if len(values) >= config.min_slot_points:
                return values, seasonality
    return [], Seasonality.NONE


def baseline(*, recent: Sequence[Point], history: Sequence[Point] = (), at: float,
             config: BaselineConfig | None = None) -> Band | None:
    """The expected band at `at`: seasonal from `history` (hourly) when it spans enough, else
    from `recent`; None while there are fewer than `min_points` recent points and no season."""
    config = config or BaselineConfig()
    values, seasonality = _seasonal(history, at, config)
    if not values:
        if len(recent) < config.min_points:
            return None
        values = [v for _, v in recent]
    center, spread = center_and_spread(values)
    spread = max(spread, config.floor, config.relative_floor * abs(center))
    clear_k = config.clear_k if config.clear_k is not None else 0.8 * config.k
    return Band(center=center, spread=spread, low=center - config.k * spread, high=center + config.k * spread,
                clear_low=center - clear_k * spread, clear_high=center + clear_k * spread,
                seasonality=seasonality, points=len(values))
