"""Small synthetic series for the anomaly tests (5-minute steps from 2024-01-01 UTC)."""

from __future__ import annotations

import numpy as np

EPOCH = 1_704_067_200.0
STEP = 300.0


def stamps(n, start=0):
    return [EPOCH + STEP * i for i in range(start, start + n)]


def noise(n, seed, level=100.0, sigma=2.0):
    return level + np.random.default_rng(seed).normal(0.0, sigma, n)


def daily(n, seed, level=100.0, amplitude=20.0, sigma=2.0):
    phase = 2 * np.pi * np.arange(n) * STEP / 86_400
    return level + amplitude * np.sin(phase) + np.random.default_rng(seed).normal(0.0, sigma, n)


def run(detector, values, start=0):
    return [detector.update(float(v), t) for v, t in zip(values, stamps(len(values), start), strict=True)]


def onsets(verdicts):
    return [i for i, v in enumerate(verdicts) if v.onset]
