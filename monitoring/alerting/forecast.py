"""When will a resource reach its limit? Least squares over a window (no Django).

Prometheus' `predict_linear` fits a straight line to the window and extrapolates. That alone
alerts on noise (a flat series near its limit gets a small positive slope half the time) and
on a single step (a large file written once tilts the whole window's fit for hours). So:

- the slope must be *significant*: its t statistic (slope / standard error) at least
  `min_t`, i.e. the rise is larger than the noise can explain;
- the recent part of the window (its last `recent_fraction`) must agree: fitted alone it must
  also rise significantly and reach the limit within the horizon. After a step the recent
  part is flat, so the forecast is withdrawn; a steady fill satisfies both.

The regression is scikit-learn's ordinary least squares (imported when first used, so web
processes that never forecast do not pay for it); times are UNIX seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Fit:
    slope: float  # units per second
    intercept: float  # value at t = origin
    origin: float
    stderr: float  # standard error of the slope
    points: int

    def at(self, t: float) -> float:
        return self.intercept + self.slope * (t - self.origin)

    @property
    def t_statistic(self) -> float:
        if self.stderr == 0.0:
            return math.inf if self.slope > 0 else (-math.inf if self.slope < 0 else 0.0)
        return self.slope / self.stderr


@dataclass(frozen=True)
class ForecastConfig:
    min_points: int = 10
    min_span_seconds: float = 1800.0  # less history than this says nothing about a trend
    min_t: float = 3.0
    recent_fraction: float = 0.5


@dataclass(frozen=True)
class Forecast:
    current: float  # the fitted value now
    slope_per_hour: float
    seconds_to_limit: float | None  # None: not approaching the limit (flat, falling, or noise)
    recent_seconds_to_limit: float | None
    t_statistic: float
    points: int

    def reaches_within(self, horizon_seconds: float) -> bool:
        """Both the window's and its recent part's trends reach the limit within the horizon."""
        return (self.seconds_to_limit is not None and self.recent_seconds_to_limit is not None
                and max(self.seconds_to_limit, self.recent_seconds_to_limit) <= horizon_seconds)

    def as_dict(self) -> dict[str, float | int | None]:
        return {"current": self.current, "slope_per_hour": self.slope_per_hour,
                "seconds_to_limit": self.seconds_to_limit, "recent_seconds_to_limit": self.recent_seconds_to_limit,
                "t_statistic": self.t_statistic if math.isfinite(self.t_statistic) else None, "points": self.points}


def fit(points: Sequence[Point]) -> Fit:
    """Ordinary least squares of value on time, with the slope's standard error."""
    import numpy as np
    from sklearn.linear_model import LinearRegression

    origin = points[-1][0]
    hours = np.array([[(t - origin) / 3600.0] for t, _ in points])  # scaled: a well-conditioned fit
    values = np.array([v for _, v in points], dtype=float)
    model = LinearRegression().fit(hours, values)
    slope_per_hour = float(model.coef_[0])
    intercept = float(model.intercept_)
    n = len(points)
    stderr = 0.0
    if n > 2:
        residuals = values - model.predict(hours)
        spread = float(np.sum((hours[:, 0] - hours[:, 0].mean()) ** 2))
        variance = float(np.sum(residuals**2)) / (n - 2)
        stderr = math.sqrt(variance / spread) if spread > 0 else math.inf
    return Fit(slope=slope_per_hour / 3600.0, intercept=intercept, origin=origin, stderr=stderr / 3600.0, points=n)


def _seconds_to_limit(model: Fit, *, limit: float, now: float, min_t: float) -> float | None:
    current = model.at(now)
    if current >= limit:
        return 0.0
    if model.slope <= 0 or model.t_statistic < min_t:
        return None
    return (limit - current) / model.slope


def forecast(points: Sequence[Point], *, limit: float, now: float, config: ForecastConfig | None = None
             ) -> Forecast | None:
    """The trend of `points` (oldest first) towards `limit` (reached from below); None without
    enough history."""
    config = config or ForecastConfig()
    points = sorted(p for p in points if math.isfinite(p[1]))
    if len(points) < config.min_points or points[-1][0] - points[0][0] < config.min_span_seconds:
        return None
    whole = fit(points)
    start = points[-1][0] - (points[-1][0] - points[0][0]) * config.recent_fraction
    recent_points = [p for p in points if p[0] >= start]
    recent = fit(recent_points) if len(recent_points) >= max(3, config.min_points // 2) else None
    return Forecast(
        current=whole.at(now), slope_per_hour=whole.slope * 3600.0,
        seconds_to_limit=_seconds_to_limit(whole, limit=limit, now=now, min_t=config.min_t),
        recent_seconds_to_limit=(None if recent is None
                                 else _seconds_to_limit(recent, limit=limit, now=now, min_t=config.min_t)),
        t_statistic=whole.t_statistic, points=len(points),
    )
