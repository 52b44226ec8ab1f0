"""The anomaly scorer interface of the alert engine, and its built-in default (no Django).

A scorer takes a metric's recent values (oldest first; the last one is the value being
judged) and the state it returned last time for that series (None the first time), and
returns a score in [0, 1] and a new JSON-serialisable state. `MONITORING_ALERTS_ANOMALY_SCORER`
names the one in use; an `anomaly` rule fires while the score is at or above its threshold.

The default is a robust z-score: distance of the value from the median of the values before
it, in robust standard deviations (1.4826 × MAD, with a floor), mapped to z² / (z² + 9):
z = 3 scores 0.5, z = 6 scores 0.8, z = 9 scores 0.9. It needs `MIN_HISTORY` values and keeps
no state of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from monitoring.alerting.baseline import center_and_spread

MIN_HISTORY = 20
RELATIVE_FLOOR = 0.01  # a perfectly steady series still has a spread of 1 % of its level
ABSOLUTE_FLOOR = 1e-9


class AnomalyScorer(Protocol):
    def __call__(self, values: Sequence[float], state: Mapping[str, Any] | None, /) -> tuple[float, dict[str, Any]]:
        ...


def z_to_score(z: float) -> float:
    if not math.isfinite(z):
        return 1.0
    return z * z / (z * z + 9.0)


def robust_zscore(values: Sequence[float], state: Mapping[str, Any] | None = None, /) -> tuple[float, dict[str, Any]]:
    """Score the last value against the ones before it."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) <= MIN_HISTORY:
        return 0.0, {"warming_up": True, "points": len(finite)}
    history, current = finite[:-1], finite[-1]
    median, spread = center_and_spread(history)
    spread = max(spread, RELATIVE_FLOOR * abs(median), ABSOLUTE_FLOOR)
    z = abs(current - median) / spread
    return round(z_to_score(z), 6), {"median": median, "spread": spread, "z": round(z, 4), "points": len(finite)}


def checked_score(score: object) -> float:
    """A scorer's answer made safe to compare: a number within [0, 1] (ValueError otherwise)."""
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise ValueError(f"an anomaly score must be a finite number, not {score!r}")
    return min(1.0, max(0.0, float(score)))


def detector_score(values: Sequence[float], state: Mapping[str, Any] | None = None, /) -> tuple[float, dict[str, Any]]:
    """The anomaly engine (monitoring/anomaly/, docs/anomaly.md) over the rule's window.

    The window is replayed through a fresh detector in time order on every evaluation: the
    verdict depends only on the values up to the one judged (never on later ones), and an
    evaluation without a new sample cannot feed the same point twice. 1.0 while the engine's
    alert is on (its models agree and the anomaly persists), else its onset score.
    """
    from monitoring.anomaly.detector import MetricDetector  # numpy and sklearn only when used

    detector = MetricDetector()
    verdict = None
    for value in values:
        if math.isfinite(value):
            verdict = detector.update(float(value))
    if verdict is None or verdict.warming:
        return 0.0, {"warming_up": True, "points": detector.count}
    score = 1.0 if verdict.alert else verdict.score
    band = {"expected": verdict.expected, "lower": verdict.lower, "upper": verdict.upper}
    return round(score, 6), {"points": detector.count, "evidence": round(verdict.evidence, 3), "season": verdict.season,
                             **{k: round(v, 6) for k, v in band.items() if v is not None and math.isfinite(v)}}
