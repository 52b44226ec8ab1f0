"""The per-metric models: each turns the recent past and the new value into a raw surprise.

All take the past values ``past`` (oldest first, the new value NOT included) and the new
value ``y``, and read nothing else: no model can look ahead. Surprises are non-negative
and unitless; the calibrators (calibration.py) turn them into evidence per metric.
"""

from __future__ import annotations

import math

import numpy as np

from .ring import FloatArray

MAD_TO_SIGMA = 1.4826


def median(values: FloatArray) -> float:
    """np.median without its generic overhead (this runs ~15 times per point)."""
    n = len(values)
    if n == 0:
        return 0.0
    middle = n // 2
    work = values.copy()
    work.partition(middle)
    if n % 2:
        return float(work[middle])
    return 0.5 * (float(work[:middle].max()) + float(work[middle]))


def robust_location_scale(values: FloatArray) -> tuple[float, float]:
    """Median and MAD scaled to a Gaussian sigma."""
    center = median(values)
    return center, MAD_TO_SIGMA * median(np.abs(values - center))


def ewma_weights(alpha: float, length: int) -> FloatArray:
    weights = alpha * (1.0 - alpha) ** np.arange(length, dtype=np.float64)
    oldest_first: FloatArray = np.ascontiguousarray((weights / weights.sum())[::-1], dtype=np.float64)
    return oldest_first  # to dot with past[-length:]


def innovation_surprise(past: FloatArray, y: float, weights: FloatArray, window: int, floor: float) -> float:
    """EWMA one-step forecast residual, in units of the typical point-to-point change."""
    recent = past[-len(weights):]
    forecast = float(np.dot(recent, weights[-len(recent):]) / weights[-len(recent):].sum())
    diffs = np.diff(past[-window - 1:])
    _, scale = robust_location_scale(diffs) if len(diffs) else (0.0, 0.0)
    return abs(y - forecast) / max(scale, floor)


def shift_surprise(past: FloatArray, y: float, short: int, window: int, floor: float) -> float:
    """Level shift: median of the last ``short`` points (new one included) vs the ``window`` before."""
    recent = np.append(past[len(past) - (short - 1):], y)
    reference = past[max(0, len(past) - (short - 1) - window): len(past) - (short - 1)]
    if len(reference) < short:
        return 0.0
    center, scale = robust_location_scale(reference)
    return abs(median(recent) - center) / max(scale, floor)


def volatility_surprise(past: FloatArray, y: float, short: int, window: int, floor: float) -> float:
    """Change of volatility, either way: |log| of recent vs reference median |first difference|."""
    changes = np.abs(np.diff(np.append(past[-(window + short):], y)))
    if len(changes) < 2 * short:
        return 0.0
    recent = median(changes[-short:])
    reference = median(changes[:-short])
    epsilon = max(floor, 1e-12)
    return abs(math.log((recent + epsilon) / (reference + epsilon)))


def spectral_residual_surprise(past: FloatArray, y: float, window: int, floor: float,
                               extend: int = 5, smooth: int = 3, reference: int = 21) -> float:
    """Spectral residual saliency of the new point (Ren et al., KDD 2019).

    The window is extended by ``extend`` extrapolated points (the paper's trick to keep
    the newest point away from the FFT's edge; they are estimates from the past, not
    future data). Saliency = |IFFT(exp(log amplitude - its moving average) * phase)|;
    the surprise is the new point's saliency relative to the mean of the ``reference``
    points before it.
    """
    series = np.append(past[-(window - 1):], y)
    n = len(series)
    if n < max(2 * extend, reference + 2):
        return 0.0
    center, scale = robust_location_scale(series[:-1])
    series = (series - center) / max(scale, floor)
    steps = np.arange(1, extend + 1, dtype=np.float64)
    gradient = float(((series[-1] - series[-1 - extend:-1][::-1]) / steps).sum()) / extend
    estimate = series[-extend] + gradient * extend
    extended = np.append(series, np.full(extend, estimate))
    spectrum = np.fft.rfft(extended)
    amplitude = np.abs(spectrum)
    log_amplitude = np.log(amplitude + 1e-8)
    averaged = np.convolve(log_amplitude, np.ones(smooth) / smooth, mode="same")
    residual = np.exp(log_amplitude - averaged) * np.exp(1j * np.angle(spectrum))
    saliency = np.abs(np.fft.irfft(residual, n=len(extended)))
    baseline = float(saliency[n - 1 - reference: n - 1].sum()) / reference
    return max(0.0, (float(saliency[n - 1]) - baseline) / (baseline + 1e-8))
