"""A detector's state is plain JSON and resumes exactly where it stopped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitoring.anomaly import DetectorConfig, MetricDetector
from monitoring.anomaly.multivariate import FEATURES, MultivariateConfig, MultivariateDetector

from .anomaly_series import daily, noise, run


def through_json(state):
    return json.loads(json.dumps(state, allow_nan=False))


@pytest.mark.parametrize("stop", [10, 40, 300, 805])  # warming, scoring, profiles learning, alert on
def test_a_restored_detector_continues_exactly_like_the_original(stop):
    values = daily(1000, seed=5)
    values[800:810] += 80
    straight = run(MetricDetector(), values)
    first = MetricDetector()
    head = run(first, values[:stop])
    resumed = MetricDetector.from_state(through_json(first.to_state()))
    tail = run(resumed, values[stop:], start=stop)
    assert head + tail == straight
    assert resumed.to_state() == MetricDetector.from_state(through_json(resumed.to_state())).to_state()


def test_the_state_keeps_a_custom_configuration():
    config = DetectorConfig(window=128, cusum_h=4.0, seasonal=False)
    detector = MetricDetector(config)
    run(detector, daily(100, seed=6))
    assert MetricDetector.from_state(through_json(detector.to_state())).config == config


def test_an_alert_in_progress_survives_a_restore():
    values = noise(600, seed=7)
    values[500:] += 200
    detector = MetricDetector()
    verdicts = run(detector, values[:505])
    assert verdicts[504].alert
    resumed = MetricDetector.from_state(through_json(detector.to_state()))
    assert run(resumed, values[505:506], start=505)[0].alert


@pytest.mark.parametrize("broken", [
    {},
    {"version": 99},
    "drop:values",
    "bad:values",
    "bad:config",
])
def test_a_state_that_is_not_one_is_refused(broken):
    detector = MetricDetector()
    run(detector, daily(50, seed=8))
    state = through_json(detector.to_state())
    if isinstance(broken, dict):
        state = {**state, **broken} if broken else {}
    elif broken == "drop:values":
        del state["values"]
    elif broken == "bad:values":
        state["values"]["values"] = "!!!"
    else:
        state["config"]["window"] = 0
    with pytest.raises(ValueError):
        MetricDetector.from_state(state)


def test_the_multivariate_detector_resumes_with_the_same_forest():
    rng = np.random.default_rng(9)
    rows = rng.normal(50, 5, (650, len(FEATURES)))
    rows[600:, 2] += 40
    config = MultivariateConfig(window=300, min_train=100, retrain_every=100, trees=20)

    def feed(detector, data):
        return [detector.update(dict(zip(FEATURES, row, strict=True))) for row in data]

    straight = feed(MultivariateDetector(config), rows)
    first = MultivariateDetector(config)
    head = feed(first, rows[:450])  # 450: trained at 400, 50 points ago
    resumed = MultivariateDetector.from_state(through_json(first.to_state()))
    assert head + feed(resumed, rows[450:]) == straight


def test_a_multivariate_state_that_is_not_one_is_refused():
    with pytest.raises(ValueError):
        MultivariateDetector.from_state({"version": 1})
