"""The per-metric models: each turns the recent past and the new value into a raw surprise.

Every function reads the past values ``past`` (oldest first, the new value NOT included),
the new value ``y`` and statistics of the same past; nothing else, so no model can look
ahead. Surprises are non-negative and unitless; the calibrators (calibration.py) turn
them into evidence per metric. The statistics are computed once per point
(``WindowStats``) and shared, since medians are most of the cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .ring import FloatArray

MAD_TO_SIGMA = 1.4826


def median(values: FloatArray) -> float:
    """np.median without its generic overhead."""
    n = len(values)
    if n == 0:
        return 0.0
    middle = n // 2
    work = values.copy()
    if n % 2:
        work.partition(middle)
        return float(work[middle])
    work.partition((middle - 1, middle))
    return 0.5 * (float(work[middle - 1]) + float(work[middle]))


def robust_location_scale(values: FloatArray) -> tuple[float, float]:
    """Median and MAD scaled to a Gaussian sigma."""
    center = median(values)
    return center, MAD_TO_SIGMA * median(np.abs(values - center))


@dataclass(frozen=True)
class WindowStats:
    """Robust statistics of the reference window (the last ``window`` past values)."""

    center: float  # median
    scale: float  # MAD as a sigma, floored
    change: float  # median |first difference|, floored: the typical step
    floor: float


def window_stats(past: FloatArray, window: int, floor: float) -> WindowStats:
    reference = past[-window:]
    center, scale = robust_location_scale(reference)
    change = median(np.abs(np.diff(reference))) if len(reference) > 1 else 0.0
    return WindowStats(center=center, scale=max(scale, floor), change=max(change, floor), floor=floor)


def level_surprise(y: float, stats: WindowStats) -> float:
    """Robust z of the new value against the rolling median/MAD."""
    return abs(y - stats.center) / stats.scale


def ewma_weights(alpha: float, length: int) -> FloatArray:
    weights = alpha * (1.0 - alpha) ** np.arange(length, dtype=np.float64)
    oldest_first: FloatArray = np.ascontiguousarray((weights / weights.sum())[::-1], dtype=np.float64)
    return oldest_first  # to dot with past[-length:]


def innovation_surprise(past: FloatArray, y: float, weights: FloatArray, stats: WindowStats) -> float:
    """EWMA one-step forecast residual, in units of the typical point-to-point change."""
    recent = past[-len(weights):]
    used = weights[-len(recent):]
    forecast = float(np.dot(recent, used)) / float(used.sum())
    return abs(y - forecast) / stats.change


def shift_surprise(past: FloatArray, y: float, short: int, stats: WindowStats) -> float:
    """Level shift: median of the last ``short`` points (new one included) vs the window's, in sigmas."""
    recent = np.append(past[len(past) - (short - 1):], y)
    return abs(median(recent) - stats.center) / stats.scale


def volatility_surprise(past: FloatArray, y: float, short: int, stats: WindowStats) -> float:
    """Change of volatility, either way: |log| of the recent vs the window's median |change|."""
    recent = np.abs(np.diff(np.append(past[-short:], y)))
    return abs(math.log((median(recent) + stats.floor) / stats.change))


def spectral_residual_surprise(past: FloatArray, y: float, window: int, stats: WindowStats,
                               extend: int = 5, smooth: int = 3, reference: int = 21) -> float:
    """Spectral residual saliency of the new point (Ren et al., KDD 2019).

    The window is extended by ``extend`` extrapolated points (the paper's trick to keep
    the newest point away from the FFT's edge; they are estimates from the past, not
    future data). Saliency = |IFFT(exp(log amplitude - its moving average) * phase)|;
    the surprise is the new point's saliency relative to the mean of the ``reference``
    points before it.
    """
    series = (np.append(past[-(window - 1):], y) - stats.center) / stats.scale
    n = len(series)
    if n < max(2 * extend, reference + 2):
        return 0.0
    steps = np.arange(1, extend + 1, dtype=np.float64)
    gradient = float(((series[-1] - series[-1 - extend:-1][::-1]) / steps).sum()) / extend
    extended = np.append(series, np.full(extend, series[-extend] + gradient * extend))
    spectrum = np.fft.rfft(extended)
    amplitude = np.abs(spectrum) + 1e-8
    log_amplitude = np.log(amplitude)
    averaged = np.convolve(log_amplitude, np.ones(smooth) / smooth, mode="same")
    residual = np.exp(log_amplitude - averaged) * (spectrum / amplitude)  # same phase
    saliency = np.abs(np.fft.irfft(residual, n=len(extended)))
    baseline = float(saliency[n - 1 - reference: n - 1].sum()) / reference
    return max(0.0, (float(saliency[n - 1]) - baseline) / (baseline + 1e-8))
