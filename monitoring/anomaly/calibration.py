"""How unusual is a surprise *for this metric*: an empirical tail with an extreme-value fit.

Each model emits a raw surprise (a robust z, a ratio...). Its meaning depends on the
series: a z of 6 is routine on a heavy-tailed latency and unheard of on a smooth
temperature. The calibrator keeps the model's last surprises and turns a new one into
evidence ``-log10(p)``, ``p`` the probability of a surprise at least as large, estimated
from the past only: the empirical rank below the tail, and beyond it a generalised Pareto
fit of the excesses (peaks over threshold, as in SPOT, Siffer et al. 2017), so surprises
larger than any seen still get a finite, graded evidence instead of a hard 1/n floor.
The fit uses quantiles of the excesses, so the few extremes an anomaly leaves in the
history barely blunt the detection of the next one.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np

from .ring import Ring

MAX_SHAPE = 0.45  # tails heavier than this are not trusted further
UPPER = 0.8  # the fit matches the excesses' median and this quantile


def pareto_quantile_ratio(shape: float) -> float:
    """q(UPPER) / q(0.5) of a generalised Pareto distribution with this shape."""
    if shape < 1e-9:
        return math.log(1.0 / (1.0 - UPPER)) / math.log(2.0)
    return float(((1.0 - UPPER) ** -shape - 1.0) / (2.0**shape - 1.0))


def fit_pareto_tail(excesses: np.ndarray[tuple[int], np.dtype[np.float64]]) -> tuple[float, float] | None:
    """(scale, shape) of a generalised Pareto fit by its median and 80th percentile.

    Quantiles, not moments: the few extreme values an anomaly leaves in the history
    barely move them, where they would inflate a mean and a variance. The shape is
    kept in [0, MAX_SHAPE]: no finite end point (a new record is never "impossible")
    and a heavy tail is never over-trusted.
    """
    median, upper = (float(q) for q in np.quantile(excesses, [0.5, UPPER]))
    if median <= 0.0 or upper <= median:
        return None
    ratio = upper / median
    low, high = 0.0, MAX_SHAPE
    if ratio <= pareto_quantile_ratio(low):
        shape = low
    elif ratio >= pareto_quantile_ratio(high):
        shape = high
    else:
        for _ in range(40):  # the ratio grows with the shape: bisect
            middle = 0.5 * (low + high)
            low, high = (middle, high) if pareto_quantile_ratio(middle) < ratio else (low, middle)
        shape = 0.5 * (low + high)
    scale = median / math.log(2.0) if shape < 1e-9 else median * shape / (2.0**shape - 1.0)
    return scale, shape


class TailCalibrator:
    def __init__(self, capacity: int = 1000, tail_fraction: float = 0.05, min_fit: int = 200,
                 refit_every: int = 50, evidence_cap: float = 8.0) -> None:
        self.ring = Ring(capacity)
        self.tail_fraction = tail_fraction
        self.min_fit = min_fit
        self.refit_every = refit_every
        self.evidence_cap = evidence_cap
        self._sorted: list[float] = []
        self._adds = 0
        # Generalised Pareto tail: threshold u, scale sigma, shape xi, share of samples above u.
        self._fit: tuple[float, float, float, float] | None = None

    def __len__(self) -> int:
        return len(self._sorted)

    def probability(self, surprise: float) -> float:
        """P(a surprise >= this one), from the past surprises only."""
        n = len(self._sorted)
        if n == 0 or surprise <= 0.0:
            return 1.0
        if self._fit is not None and surprise > self._fit[0]:
            u, sigma, xi, share = self._fit
            excess = (surprise - u) / sigma
            tail = math.exp(-excess) if xi < 1e-6 else (1.0 + xi * excess) ** (-1.0 / xi)
            return share * tail
        at_least = n - bisect.bisect_left(self._sorted, surprise)
        return (at_least + 1) / (n + 1)

    def evidence(self, surprise: float) -> float:
        p = self.probability(surprise)
        return self.evidence_cap if p <= 0.0 else min(self.evidence_cap, -math.log10(p))

    def add(self, surprise: float) -> None:
        if len(self.ring) == self.ring.capacity:
            old = self.ring.oldest()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self.ring.append(surprise)
        bisect.insort(self._sorted, surprise)
        self._adds += 1
        if self._adds % self.refit_every == 0 or (self._fit is None and len(self._sorted) == self.min_fit):
            self._refit()

    def _refit(self) -> None:
        n = len(self._sorted)
        if n < self.min_fit:
            self._fit = None
            return
        u = self._sorted[int((1.0 - self.tail_fraction) * n)]
        excesses = np.asarray(self._sorted[bisect.bisect_right(self._sorted, u):], dtype=np.float64) - u
        if len(excesses) < 10:
            self._fit = None
            return
        fit = fit_pareto_tail(excesses)
        self._fit = None if fit is None else (u, fit[0], fit[1], len(excesses) / (n + 1))

    def to_state(self) -> dict[str, Any]:
        return {"ring": self.ring.to_state(), "adds": self._adds, "fit": list(self._fit) if self._fit else None}

    def load_state(self, state: dict[str, Any]) -> None:
        self.ring = Ring.from_state(state["ring"])
        self._sorted = sorted(float(v) for v in self.ring.values())
        self._adds = int(state["adds"])
        fit = state["fit"]
        self._fit = None if fit is None else (float(fit[0]), float(fit[1]), float(fit[2]), float(fit[3]))
