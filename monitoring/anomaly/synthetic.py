"""Labelled synthetic series: the detector's tests and its only tuning data.

Each series is a normal behaviour (noise, heavy tails, daily or weekly seasonality,
smooth AR(1) drift, random walk, counts, periodic bursts, sawtooth) with 0-3 injected
anomalies (spike, dip to zero, level shift, variance change, ramp, lost seasonality,
flatline), labelled the way NAB labels: a window of 10% of the series divided by the
number of anomalies, centred on each anomaly's start.

Deterministic for a given seed. Not used at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .ring import FloatArray

BASES = ("gaussian", "heavy", "daily", "weekly", "ar1", "walk", "counts", "bursts", "sawtooth")
ANOMALIES = ("spike", "dip", "shift", "variance", "ramp", "unseason", "flatline")
EPOCH = 1_388_534_400.0  # 2014-01-01 UTC


@dataclass
class SyntheticSeries:
    name: str
    timestamps: list[float]
    values: FloatArray
    anomalies: list[tuple[int, str]] = field(default_factory=list)  # (index, kind)
    windows: list[tuple[int, int]] = field(default_factory=list)  # inclusive row indices


def _daily_shape(stamps: FloatArray, rng: np.random.Generator) -> FloatArray:
    phase = 2 * math.pi * (stamps % 86_400) / 86_400
    shift = rng.uniform(0, 2 * math.pi)
    return np.sin(phase + shift) + 0.4 * np.sin(2 * phase + 2 * shift + 1.0)


def _base(kind: str, stamps: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, float]:
    """A normal series and its typical noise scale."""
    n = len(stamps)
    level = rng.uniform(5, 500)
    sigma = level * rng.uniform(0.01, 0.08)
    noise = rng.normal(0, sigma, n)
    if kind == "gaussian":
        return level + noise, sigma
    if kind == "heavy":
        return level + sigma * rng.standard_t(3, n) / math.sqrt(3), sigma
    if kind == "daily":
        return level + rng.uniform(3, 15) * sigma * _daily_shape(stamps, rng) + noise, sigma
    if kind == "weekly":
        weekend = ((stamps // 86_400 + 3) % 7 >= 5).astype(np.float64)  # 1970-01-01 was a Thursday
        daily = rng.uniform(3, 15) * sigma * _daily_shape(stamps, rng)
        return level + daily * (1 - 0.6 * weekend) - 3 * sigma * weekend + noise, sigma
    if kind == "ar1":
        phi = rng.uniform(0.95, 0.995)
        shocks = rng.normal(0, sigma * math.sqrt(1 - phi * phi), n)
        values = np.empty(n)
        values[0] = 0.0
        for i in range(1, n):
            values[i] = phi * values[i - 1] + shocks[i]
        return level + 3 * values + 0.3 * noise, sigma
    if kind == "walk":
        return level + np.cumsum(rng.normal(0, sigma * 0.2, n)) + 0.5 * noise, sigma
    if kind == "counts":
        rate = rng.uniform(20, 400) * (1.5 + _daily_shape(stamps, rng)) / 1.5
        values = rng.poisson(np.maximum(rate, 1.0)).astype(np.float64)
        return values, float(math.sqrt(np.mean(rate)))
    if kind == "bursts":
        values = level + 0.5 * noise
        every = int(rng.integers(40, 400))
        for start in range(int(rng.integers(0, every)), n, every):
            values[start: start + int(rng.integers(1, 4))] += rng.uniform(2, 6) * sigma
        return values, sigma
    if kind == "sawtooth":
        period = int(rng.integers(20, 120))
        ramp = (np.arange(n) % period) / period
        return level + 6 * sigma * ramp + 0.5 * noise, sigma
    raise ValueError(kind)


def _inject(values: FloatArray, at: int, kind: str, sigma: float, stamps: FloatArray,
            rng: np.random.Generator) -> None:
    n = len(values)
    sign = rng.choice([-1.0, 1.0])
    if kind == "spike":
        width = int(rng.integers(1, 3))
        values[at: at + width] += sign * rng.uniform(8, 15) * sigma
    elif kind == "dip":
        values[at: at + int(rng.integers(5, 30))] = 0.0
    elif kind == "shift":
        values[at: at + int(rng.integers(n // 10, n))] += sign * rng.uniform(4, 8) * sigma
    elif kind == "variance":
        end = at + int(rng.integers(100, 500))
        values[at:end] += rng.normal(0, rng.uniform(3, 5) * sigma, len(values[at:end]))
    elif kind == "ramp":
        length = int(rng.integers(50, 200))
        span = min(length, n - at)
        values[at: at + span] += sign * np.linspace(0, 8 * sigma, length)[:span]
        values[at + span:] += sign * 8 * sigma
    elif kind == "unseason":
        end = min(n, at + int(86_400 / max(float(stamps[1] - stamps[0]), 1.0)))
        values[at:end] = float(np.median(values[max(0, at - 300): at])) + rng.normal(0, sigma * 0.5, end - at)
    elif kind == "flatline":
        values[at: at + int(rng.integers(100, 300))] = values[at - 1]


def make_series(name: str, base: str, n: int, step: float, anomalies: list[str], seed: int) -> SyntheticSeries:
    rng = np.random.default_rng(seed)
    stamps = EPOCH + rng.integers(0, 365) * 86_400.0 + step * np.arange(n, dtype=np.float64)
    values, sigma = _base(base, stamps, rng)
    result = SyntheticSeries(name=name, timestamps=[float(s) for s in stamps], values=values)
    if not anomalies:
        return result
    width = int(0.1 * n / len(anomalies))
    # Anomalies start after the first 20% (NAB's files leave the start normal) and a window apart.
    slots = np.linspace(0.25 * n, 0.95 * n, len(anomalies) + 1)[:-1]
    for slot, kind in zip(slots, anomalies, strict=True):
        at = int(slot + rng.integers(0, max(1, int(0.7 * n / len(anomalies)) - width)))
        _inject(values, at, kind, sigma, stamps, rng)
        result.anomalies.append((at, kind))
        result.windows.append((max(0, at - width // 2), min(n - 1, at + width // 2)))
    return result


def corpus(seed: int, count: int, min_points: int = 2000, max_points: int = 8000) -> list[SyntheticSeries]:
    """``count`` random series; about one in six has no anomaly at all."""
    rng = np.random.default_rng(seed)
    series = []
    for i in range(count):
        base = str(rng.choice(BASES))
        step = float(rng.choice([60.0, 300.0, 300.0, 1800.0, 3600.0]))
        n = int(rng.integers(min_points, max_points))
        pool = [a for a in ANOMALIES if a != "unseason" or base in ("daily", "weekly", "counts")]
        k = 0 if rng.random() < 1 / 6 else int(rng.integers(1, 4))
        kinds = [str(rng.choice(pool)) for _ in range(k)]
        series.append(make_series(f"{base}-{i}", base, n, step, kinds, int(rng.integers(0, 2**31))))
    return series
