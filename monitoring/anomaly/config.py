"""The detector's parameters, with generic defaults (see docs/anomaly.md for their origin)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DetectorConfig:
    # Models
    window: int = 256  # reference window (points) of the rolling median/MAD models
    shift_short: int = 8  # points a level shift is judged on
    volatility_short: int = 16  # points a volatility change is judged on
    ewma_alpha: float = 0.3  # one-step forecast of the innovation model
    spectral_window: int = 64  # points fed to the spectral residual
    min_history: int = 32  # points buffered before any scoring
    relative_floor: float = 1e-3  # scale floor, relative to the typical magnitude
    # Seasonality (needs timestamps)
    seasonal: bool = True
    daily_bins: int = 96
    weekly_bins: int = 168
    season_memory_cycles: float = 3.0
    season_margin: float = 0.85  # a profile must cut the residual by 15% to be used
    # Calibration
    calibration_history: int = 1000
    evidence_cap: float = 8.0
    # Combination and persistence
    agreement: int = 2  # the point's evidence is the mean of this many most confident models
    cusum_k: float = 2.0  # evidence a point must exceed to count towards an alert
    cusum_h: float = 2.0  # accumulated excess evidence that raises it
    clear_points: int = 12
    band_sigmas: float = 4.0

    def __post_init__(self) -> None:
        positive = ("window", "shift_short", "volatility_short", "spectral_window", "min_history",
                    "calibration_history", "agreement", "clear_points", "daily_bins", "weekly_bins")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 0.0 < self.ewma_alpha <= 1.0:
            raise ValueError("ewma_alpha must be in (0, 1]")
        if self.cusum_h <= 0.0 or self.cusum_k < 0.0 or self.evidence_cap <= 0.0:
            raise ValueError("cusum_h and evidence_cap must be positive, cusum_k not negative")
        if self.agreement > 5:
            raise ValueError("agreement cannot exceed the 5 models")
        if self.min_history < 2 * self.volatility_short:
            raise ValueError("min_history must cover two volatility windows")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown detector settings: {', '.join(sorted(unknown))}")
        return cls(**data)
