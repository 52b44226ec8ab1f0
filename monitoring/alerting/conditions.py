"""Whether a value breaches a rule, with hysteresis (no Django).

A static rule fires above `threshold` and, once active, stays active until the value goes
back past `clear_threshold` (Netdata's alarms do the same: a CPU rule at 90 % that clears at
80 % does not flap around 90 %). `below` rules mirror it. Bands (adaptive rules) breach
outside [low, high]; an active alert clears only inside the narrower clear band.
"""

from __future__ import annotations

from enum import StrEnum


class Comparison(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    OUTSIDE = "outside"  # bands only: either side


def static_breach(value: float, *, comparison: Comparison, threshold: float, clear_threshold: float | None,
                  active: bool) -> bool:
    """Beyond `threshold`; while `active`, until the value has crossed back past `clear_threshold`."""
    if active and clear_threshold is not None:
        return value <= clear_threshold if comparison == Comparison.BELOW else value >= clear_threshold
    return value < threshold if comparison == Comparison.BELOW else value > threshold


def band_breach(value: float, *, comparison: Comparison, low: float, high: float, clear_low: float,
                clear_high: float, active: bool) -> bool:
    """Outside [low, high] (or the chosen side); while `active`, until back inside [clear_low, clear_high]."""
    lower, upper = (clear_low, clear_high) if active else (low, high)
    if comparison == Comparison.ABOVE:
        return value > upper
    if comparison == Comparison.BELOW:
        return value < lower
    return value > upper or value < lower


def clear_is_consistent(*, comparison: Comparison, threshold: float, clear_threshold: float | None) -> bool:
    """A clear threshold must be on the safe side of the threshold (or equal: no hysteresis)."""
    if clear_threshold is None:
        return True
    if comparison == Comparison.BELOW:
        return clear_threshold >= threshold
    return clear_threshold <= threshold
