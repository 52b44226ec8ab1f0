"""The per-metric online detector: five models, calibrated, combined, made persistent.

``MetricDetector.update(value, timestamp)`` scores one new point from the past only and
then learns from it. Per point:

1. **Baseline.** The series minus the best seasonal profile (none, hour of day, hour of
   week; chosen on past one-step errors, see seasonality.py) gives the stream ``y``.
2. **Models** (models.py) each give a raw surprise for the new ``y``: level (robust z
   on the rolling median/MAD), innovation (EWMA one-step residual), shift (recent
   median vs the window before), volatility (recent vs reference |changes|) and
   spectral residual.
3. **Calibration** (calibration.py) turns each surprise into evidence ``-log10 p``
   against that model's own past surprises on this metric.
4. **Agreement.** The point's evidence is the mean evidence of the ``agreement`` (2)
   most confident models: two models must be fairly sure, or one sure beyond doubt
   and staying so (step 5), before anything is flagged.
5. **Persistence** (persistence.py): a CUSUM on that evidence raises an alert only when
   it persists (or is overwhelming), and keeps it on until the evidence is quiet.

The whole state is plain data (``to_state``/``from_state``), so a caller can keep one
detector per metric between collections and resume exactly where it stopped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .calibration import TailCalibrator
from .config import DetectorConfig
from .models import (
    ewma_weights,
    innovation_surprise,
    level_surprise,
    median,
    shift_surprise,
    spectral_residual_surprise,
    volatility_surprise,
    window_stats,
)
from .persistence import Persistence
from .ring import FloatArray, Ring
from .seasonality import DAY, WEEK, SeasonalProfile

MODELS = ("level", "innovation", "shift", "volatility", "spectral")
STATE_VERSION = 1
STEP_SAMPLE = 16  # intervals used to estimate the sampling step
EWMA_SPAN = 32  # points the EWMA forecast reads (weights beyond are negligible)


@dataclass(frozen=True)
class Verdict:
    """What the detector says about one point."""

    score: float  # onset score in [0, 1]: 0.5 where an alert starts, 0 while it is on
    alert: bool  # the metric's anomaly alert is on
    onset: bool  # it started at this point
    evidence: float = 0.0  # combined evidence, -log10 of a probability
    models: dict[str, float] = field(default_factory=dict)  # each model's evidence
    expected: float | None = None  # baseline: local level plus season
    lower: float | None = None  # the band of usual values
    upper: float | None = None
    season: str = "none"
    warming: bool = False


@dataclass(frozen=True)
class _View:
    """The series under one baseline: past and new value with a profile removed."""

    past: FloatArray
    value: float
    seasonal: float  # the profile's value at the new point
    level: float  # median of the adjusted window


class MetricDetector:
    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        cfg = self.config
        capacity = max(cfg.window + max(cfg.shift_short, cfg.volatility_short) + 1, cfg.spectral_window, EWMA_SPAN)
        self._values = Ring(capacity)
        self._stamps = Ring(capacity)
        self._count = 0
        self._timed = cfg.seasonal  # seasonality needs every point's timestamp
        self._step: float | None = None
        self._profiles: list[SeasonalProfile] = []
        self._phases: dict[str, Ring] = {}  # each profile's phase bin of the buffered points
        self._selected = "none"
        self._plain_error: float | None = None
        self._quantum = math.inf  # smallest change seen: the measurement's resolution
        self._calibrators = {name: TailCalibrator(capacity=cfg.calibration_history, evidence_cap=cfg.evidence_cap)
                             for name in MODELS}
        self._persistence = Persistence(k=cfg.cusum_k, h=cfg.cusum_h, clear=cfg.clear_points)
        self._weights = ewma_weights(cfg.ewma_alpha, EWMA_SPAN)

    @property
    def count(self) -> int:
        return self._count

    def update(self, value: float, timestamp: float | None = None) -> Verdict:
        """Score ``value`` (observed at ``timestamp``, Unix seconds) from the past, then learn it."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"value must be a finite number, got {value!r}")
        if timestamp is None or not math.isfinite(float(timestamp)):
            self._drop_seasonality()
            stamp = 0.0
        else:
            stamp = float(timestamp)
        past, stamps = self._values.values(), self._stamps.values()
        views = self._views(past, stamps, value, stamp)
        if self._count < self.config.min_history:
            verdict = Verdict(score=0.0, alert=False, onset=False, warming=True)
        else:
            verdict = self._score(views, stamp)
        self._learn_seasons(views, value, stamp)
        self._remember(value, stamp)
        return verdict

    # -- scoring -------------------------------------------------------------------

    def _score(self, views: dict[str, _View], stamp: float) -> Verdict:
        cfg = self.config
        name = self._select(stamp)
        view = views[name]
        floor = self._floor(views["none"].level)
        stats = window_stats(view.past, cfg.window, floor)
        surprises = {
            "level": level_surprise(view.value, stats),
            "innovation": innovation_surprise(view.past, view.value, self._weights, stats),
            "shift": shift_surprise(view.past, view.value, cfg.shift_short, stats),
            "volatility": volatility_surprise(view.past, view.value, cfg.volatility_short, stats),
            "spectral": spectral_residual_surprise(view.past, view.value, cfg.spectral_window, stats),
        }
        evidence = {}
        for model, surprise in surprises.items():
            calibrator = self._calibrators[model]
            evidence[model] = calibrator.evidence(surprise)
            # Learnt even during an alert: a pattern that recurs (a nightly job, a GC
            # sawtooth) must become ordinary, or it would alert forever.
            calibrator.add(surprise)
        combined = self._combine(evidence)
        score, alert, onset = self._persistence.step(combined)
        expected = stats.center + view.seasonal
        band = cfg.band_sigmas * stats.scale
        return Verdict(score=score, alert=alert, onset=onset, evidence=combined, models=evidence,
                       expected=expected, lower=expected - band, upper=expected + band, season=name)

    def _combine(self, evidence: dict[str, float]) -> float:
        """Mean evidence of the ``agreement`` most confident models: they must agree."""
        top = sorted(evidence.values())[-self.config.agreement:]
        return sum(top) / len(top)

    def _floor(self, level: float) -> float:
        quantum = 0.5 * self._quantum if math.isfinite(self._quantum) else 0.0
        return max(1e-9, self.config.relative_floor * abs(level), quantum)

    # -- seasonality -----------------------------------------------------------------

    def _views(self, past: FloatArray, stamps: FloatArray, value: float, stamp: float) -> dict[str, _View]:
        """The series under each candidate baseline: as is, and minus each seasonal profile."""
        window = self.config.window
        plain = _View(past=past, value=value, seasonal=0.0, level=median(past[-window:]) if len(past) else value)
        views = {"none": plain}
        for profile in self._profiles:
            seasonal = float(profile.level[profile.phase(stamp)])
            adjusted = past - profile.level[self._phases[profile.name].values().astype(np.intp)]
            views[profile.name] = _View(past=adjusted, value=value - seasonal, seasonal=seasonal,
                                        level=median(adjusted[-window:]))
        return views

    def _select(self, stamp: float) -> str:
        """The baseline in use: a switch needs a clearly lower past error (hysteresis)."""
        errors: dict[str, float] = {}
        if self._plain_error is not None:
            errors["none"] = self._plain_error
        for profile in self._profiles:
            if profile.error is not None and profile.mature(stamp):
                errors[profile.name] = profile.error
        best = self._selected if self._selected in errors else "none"
        for name, error in errors.items():  # "none" first, then daily, then weekly
            if best in errors and error < self.config.season_margin * errors[best]:
                best = name
        self._selected = best
        return best

    def _learn_seasons(self, views: dict[str, _View], value: float, stamp: float) -> None:
        """Track each baseline's one-step error, then teach the profiles this point."""
        if len(views["none"].past) < self.config.min_history // 2:
            return
        alpha = 1.0 / self.config.window
        plain = views["none"]
        residual = abs(value - plain.level)
        self._plain_error = residual if self._plain_error is None else (
            self._plain_error + alpha * (residual - self._plain_error))
        for profile in self._profiles:
            view = views[profile.name]
            profile.track_error(view.value - view.level, alpha)
            limit = 5.0 * profile.error if profile.error else math.inf
            profile.learn(stamp, value - view.level, limit)

    def _drop_seasonality(self) -> None:
        self._timed = False
        self._profiles = []
        self._phases = {}
        self._selected = "none"

    def _remember(self, value: float, stamp: float) -> None:
        if self._count:
            change = abs(value - float(self._values.values()[-1]))
            if change > 0.0:
                self._quantum = min(self._quantum, change)
        self._values.append(value)
        self._stamps.append(stamp)
        for profile in self._profiles:
            self._phases[profile.name].append(float(profile.phase(stamp)))
        self._count += 1
        if self._timed and self._step is None and self._count == STEP_SAMPLE + 1:
            self._start_seasons()

    def _start_seasons(self) -> None:
        intervals = np.diff(self._stamps.values())
        intervals = intervals[intervals > 0]
        if not len(intervals):
            return
        self._step = float(np.median(intervals))
        cfg = self.config
        for name, period, bins in (("daily", DAY, cfg.daily_bins), ("weekly", WEEK, cfg.weekly_bins)):
            if SeasonalProfile.applicable(period, self._step):
                self._profiles.append(SeasonalProfile(name, period, self._step, bins, cfg.season_memory_cycles))
        self._index_phases()

    def _index_phases(self) -> None:
        stamps = self._stamps.values()
        self._phases = {}
        for profile in self._profiles:
            ring = self._phases[profile.name] = Ring(self._stamps.capacity)
            for phase in profile.phases(stamps):
                ring.append(float(phase))

    # -- state -------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume: JSON-serialisable, exact (floats as base64 float64)."""
        return {
            "version": STATE_VERSION,
            "config": self.config.to_dict(),
            "count": self._count,
            "values": self._values.to_state(),
            "stamps": self._stamps.to_state(),
            "timed": self._timed,
            "step": self._step,
            "profiles": [profile.to_state() for profile in self._profiles],
            "selected": self._selected,
            "plain_error": self._plain_error,
            "quantum": self._quantum if math.isfinite(self._quantum) else None,
            "calibrators": {name: c.to_state() for name, c in self._calibrators.items()},
            "persistence": self._persistence.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MetricDetector:
        """Rebuild a detector saved by ``to_state``; ValueError if the state is not one."""
        try:
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported detector state version {state.get('version')!r}")
            detector = cls(DetectorConfig.from_dict(dict(state["config"])))
            detector._count = int(state["count"])
            detector._values = Ring.from_state(state["values"])
            detector._stamps = Ring.from_state(state["stamps"])
            detector._timed = bool(state["timed"])
            detector._step = None if state["step"] is None else float(state["step"])
            detector._profiles = [SeasonalProfile.from_state(p) for p in state["profiles"]]
            detector._index_phases()
            detector._selected = str(state["selected"])
            detector._plain_error = None if state["plain_error"] is None else float(state["plain_error"])
            detector._quantum = math.inf if state["quantum"] is None else float(state["quantum"])
            for name in MODELS:
                detector._calibrators[name].load_state(state["calibrators"][name])
            detector._persistence.load_state(state["persistence"])
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a detector state: {error!r}") from error
        return detector
