"""The anomaly rule kind scores with the anomaly engine (monitoring/anomaly/) by default."""

from __future__ import annotations

import random

from django.conf import settings

from monitoring.alerting.scoring import detector_score


def noisy(n: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [50.0 + rng.gauss(0, 1) for _ in range(n)]


def test_it_is_the_default_scorer():
    assert settings.MONITORING_ALERTS_ANOMALY_SCORER == "monitoring.alerting.scoring.detector_score"


def test_a_quiet_series_scores_low_and_a_sustained_jump_scores_high():
    quiet, _ = detector_score(noisy(600))
    assert quiet < 0.5
    series = noisy(600)
    scores = [detector_score(series + [90.0 + i % 3 for i in range(k)])[0] for k in range(1, 12)]
    assert max(scores) >= 0.5  # the engine's alert comes on within a few points of the jump


def test_the_verdict_ignores_nothing_but_the_future():
    series = noisy(600) + [90.0] * 5
    assert detector_score(series)[0] == detector_score(list(series))[0]  # deterministic, stateless
    state = detector_score(series)[1]
    assert state["points"] == len(series) and "evidence" in state


def test_short_windows_are_warming_up():
    score, state = detector_score([1.0, 2.0, 3.0])
    assert score == 0.0 and state["warming_up"]
