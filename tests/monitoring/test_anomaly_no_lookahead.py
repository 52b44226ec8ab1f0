"""The detector scores each point from the past only: feeding the future changes nothing before it."""

from __future__ import annotations

import numpy as np

from monitoring.anomaly import MetricDetector
from monitoring.anomaly.multivariate import FEATURES, MultivariateConfig, MultivariateDetector

from .anomaly_series import daily, run


def test_past_scores_do_not_change_whatever_comes_after():
    past = daily(700, seed=1)  # past two days: the daily profile is in play
    calm_future = daily(300, seed=2)
    wild_future = calm_future + np.where(np.arange(300) % 50 < 10, 500.0, -300.0)
    calm = run(MetricDetector(), np.concatenate([past, calm_future]))
    wild = run(MetricDetector(), np.concatenate([past, wild_future]))
    alone = run(MetricDetector(), past)
    assert calm[:700] == wild[:700] == alone
    assert calm[700:] != wild[700:]  # the future did reach the detector


def test_a_point_is_scored_before_it_is_learnt():
    detector = MetricDetector()
    run(detector, daily(400, seed=3))
    state = detector.to_state()
    first = detector.update(1e6, 1.8e9)
    again = MetricDetector.from_state(state).update(1e6, 1.8e9)
    assert first == again  # scoring read nothing the point itself changed


def test_the_multivariate_detector_does_not_look_ahead_either():
    rng = np.random.default_rng(4)
    rows = rng.normal(50, 5, (700, len(FEATURES)))
    other = rows.copy()
    other[500:] += 100
    config = MultivariateConfig(window=300, min_train=100, retrain_every=100, trees=20)

    def scores(data):
        detector = MultivariateDetector(config)
        return [detector.update(dict(zip(FEATURES, row, strict=True))) for row in data]

    assert scores(rows)[:500] == scores(other)[:500]
