"""Additive seasonal profiles (hour of day, hour of week) learnt online.

A profile holds one robust level per phase bin of its period; the detector subtracts
it from the series and compares what is left with the recent past. A profile is used
only once it has seen two full periods and predicts the series clearly better than no
profile at all (see ``detector.MetricDetector._select``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .ring import FloatArray, decode_floats, encode_floats

DAY = 86_400.0
WEEK = 7 * DAY


class SeasonalProfile:
    def __init__(self, name: str, period: float, step: float, max_bins: int, memory_cycles: float = 3.0) -> None:
        points_per_period = period / step
        self.name = name
        self.period = period
        self.bins = max(1, int(min(max_bins, round(points_per_period))))
        visits_per_cycle = points_per_period / self.bins
        # Each bin forgets in about `memory_cycles` periods, however many points fall in it.
        self.alpha = min(0.5, max(0.02, 1.0 / (memory_cycles * visits_per_cycle)))
        self.level: FloatArray = np.zeros(self.bins, dtype=np.float64)
        self.visited: FloatArray = np.zeros(self.bins, dtype=np.float64)
        self.first_seen: float | None = None
        self.error: float | None = None  # EW mean |one-step residual| with this profile removed

    @classmethod
    def applicable(cls, period: float, step: float) -> bool:
        """A period needs enough points per cycle to have a shape worth learning."""
        return step > 0.0 and period / step >= 8.0

    def phase(self, timestamp: float) -> int:
        return min(self.bins - 1, int((timestamp % self.period) / self.period * self.bins))

    def phases(self, timestamps: FloatArray) -> np.ndarray[Any, np.dtype[np.intp]]:
        index = ((timestamps % self.period) / self.period * self.bins).astype(np.intp)
        return np.minimum(index, self.bins - 1)

    def mature(self, timestamp: float) -> bool:
        return (self.first_seen is not None and timestamp - self.first_seen >= 2.0 * self.period
                and float(self.visited.mean()) >= 0.9)

    def learn(self, timestamp: float, seasonal_part: float, limit: float) -> None:
        """Move the bin toward ``seasonal_part`` (value minus local level), clipped to ``limit``."""
        if self.first_seen is None:
            self.first_seen = timestamp
        b = self.phase(timestamp)
        if not self.visited[b]:
            self.level[b] = seasonal_part
            self.visited[b] = 1.0
            return
        step = seasonal_part - self.level[b]
        if math.isfinite(limit) and limit > 0.0:
            step = min(max(step, -limit), limit)  # a spike nudges the profile, never drags it
        self.level[b] += self.alpha * step

    def track_error(self, residual: float, alpha: float) -> None:
        magnitude = abs(residual)
        self.error = magnitude if self.error is None else self.error + alpha * (magnitude - self.error)

    def to_state(self) -> dict[str, Any]:
        return {"name": self.name, "period": self.period, "bins": self.bins, "alpha": self.alpha,
                "level": encode_floats(self.level), "visited": encode_floats(self.visited),
                "first_seen": self.first_seen, "error": self.error}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SeasonalProfile:
        profile = cls.__new__(cls)
        profile.name = str(state["name"])
        profile.period = float(state["period"])
        profile.bins = int(state["bins"])
        profile.alpha = float(state["alpha"])
        profile.level = decode_floats(state["level"])
        profile.visited = decode_floats(state["visited"])
        if len(profile.level) != profile.bins or len(profile.visited) != profile.bins:
            raise ValueError("seasonal profile state is inconsistent")
        first_seen, error = state["first_seen"], state["error"]
        profile.first_seen = None if first_seen is None else float(first_seen)
        profile.error = None if error is None else float(error)
        return profile
