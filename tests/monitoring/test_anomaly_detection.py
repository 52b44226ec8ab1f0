"""The per-metric detector finds injected spikes, dips and level shifts, and stays quiet otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.anomaly import MetricDetector

from .anomaly_series import daily, noise, onsets, run


def test_a_spike_is_flagged_where_it_happens_and_nowhere_else():
    values = noise(1500, seed=21)
    values[1000] += 40  # 20 sigma
    verdicts = run(MetricDetector(), values)
    assert onsets(verdicts) == [1000]
    assert verdicts[1000].score >= 0.5 and verdicts[1000].alert
    assert verdicts[1000].models["level"] > 3 and verdicts[1000].models["innovation"] > 3


def test_a_level_shift_is_flagged_within_a_few_points_and_not_again():
    values = noise(2000, seed=22)
    values[1200:] += 16  # 8 sigma, for good
    found = onsets(run(MetricDetector(), values))
    assert len(found) == 1 and 1200 <= found[0] <= 1205


def test_the_alert_clears_once_the_new_level_is_the_norm():
    values = noise(2000, seed=23)
    values[1200:] += 16
    verdicts = run(MetricDetector(), values)
    assert verdicts[1201].alert
    assert not verdicts[-1].alert
    assert verdicts[-1].score < 0.5


@pytest.mark.parametrize("seed", [24, 25, 26])
def test_plain_noise_raises_almost_no_alert(seed):
    assert len(onsets(run(MetricDetector(), noise(2000, seed=seed)))) <= 1


def test_heavy_tailed_noise_raises_few_alerts():
    values = 100 + 2 * np.random.default_rng(27).standard_t(3, 2000)
    assert len(onsets(run(MetricDetector(), values))) <= 2


def test_a_flat_series_never_alerts():
    verdicts = run(MetricDetector(), np.full(600, 42.0))
    assert {v.score for v in verdicts} == {0.0}
    assert not any(v.alert for v in verdicts)


def test_a_series_stepping_by_its_resolution_never_alerts():
    values = 50 + np.random.default_rng(28).integers(0, 2, 1500)  # 50 or 51, like an idle CPU %
    assert onsets(run(MetricDetector(), values)) == []


def test_a_daily_pattern_is_learnt_and_a_missing_peak_is_flagged():
    values = daily(288 * 5, seed=29, amplitude=30.0)  # 5 days of 5-minute points
    peak = 288 * 4 + 72  # the fifth day's peak (sin is 1 at a quarter day)
    values[peak - 20: peak + 20] -= 30  # the peak does not come
    verdicts = run(MetricDetector(), values)
    assert verdicts[288 * 4].season == "daily"
    assert any(peak - 20 <= i <= peak for i in onsets(verdicts))
    assert all(i >= peak - 20 for i in onsets(verdicts)[1:]) if onsets(verdicts) else True


def test_the_daily_pattern_itself_raises_no_alert():
    assert len(onsets(run(MetricDetector(), daily(288 * 5, seed=30, amplitude=30.0)))) <= 1


def test_the_verdict_shows_the_expected_value_and_its_band():
    verdicts = run(MetricDetector(), noise(300, seed=31))
    last = verdicts[-1]
    assert last.lower < last.expected < last.upper
    assert abs(last.expected - 100) < 1 and 4 < last.upper - last.expected < 12  # 4 sigma, sigma = 2
    assert verdicts[0].warming and not last.warming


def test_a_value_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError, match="finite"):
        MetricDetector().update(float("nan"), 1.7e9)


def test_it_works_without_timestamps():
    detector = MetricDetector()
    values = noise(800, seed=32)
    values[600] += 40
    verdicts = [detector.update(float(v)) for v in values]
    assert onsets(verdicts) == [600]
    assert {v.season for v in verdicts} == {"none"}
