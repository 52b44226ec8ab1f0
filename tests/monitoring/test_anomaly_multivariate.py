"""The multivariate detector: sklearn's Isolation Forest scores, and a broken correlation found."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from monitoring.anomaly.multivariate import FEATURES, CompiledForest, MultivariateConfig, MultivariateDetector


def system(n, seed):
    """Request rate drives CPU and latency; memory and error rate are independent."""
    rng = np.random.default_rng(seed)
    load = 50 + 20 * np.sin(np.arange(n) / 50) + rng.normal(0, 2, n)
    return np.column_stack([0.8 * load + rng.normal(0, 2, n), 60 + rng.normal(0, 1, n),
                            100 + 2 * load + rng.normal(0, 5, n), load, np.abs(rng.normal(0, 0.2, n))])


def feed(detector, rows):
    return [detector.update(dict(zip(FEATURES, row, strict=True))) for row in rows]


CONFIG = MultivariateConfig(window=600, min_train=200, retrain_every=200, trees=50)


def test_the_compiled_forest_scores_exactly_like_sklearn():
    rng = np.random.default_rng(41)
    forest = IsolationForest(n_estimators=30, random_state=2).fit(rng.normal(size=(400, 5)))
    points = rng.normal(size=(50, 5)) * 3
    compiled = CompiledForest(forest)
    assert np.allclose([compiled.anomaly_score(p) for p in points], -forest.score_samples(points), atol=1e-12)


def test_latency_rising_while_the_load_does_not_is_flagged():
    rows = system(1500, seed=42)
    rows[1200:1230, 2] += 80  # about 2.5 sigma of latency alone: only the broken link gives it away
    verdicts = feed(MultivariateDetector(CONFIG), rows)
    started = [i for i, v in enumerate(verdicts) if v.onset]
    assert started and 1200 <= started[0] <= 1205 and len(started) == 1
    assert next(iter(verdicts[1201].deviations)) == "latency_p95"


def test_a_normal_system_raises_no_alert():
    assert not any(v.onset for v in feed(MultivariateDetector(CONFIG), system(1500, seed=43)))


def test_it_warms_up_before_scoring():
    verdicts = feed(MultivariateDetector(CONFIG), system(250, seed=44))
    assert verdicts[199].warming and not verdicts[200].warming


def test_a_missing_or_invalid_metric_is_refused():
    detector = MultivariateDetector(CONFIG)
    with pytest.raises(ValueError, match="missing metrics: error_rate"):
        detector.update({name: 1.0 for name in FEATURES[:-1]})
    with pytest.raises(ValueError, match="finite"):
        detector.update({name: float("inf") for name in FEATURES})


def test_a_bad_configuration_is_refused():
    with pytest.raises(ValueError):
        MultivariateConfig(features=("cpu",))
    with pytest.raises(ValueError):
        MultivariateConfig(window=100, min_train=200)
