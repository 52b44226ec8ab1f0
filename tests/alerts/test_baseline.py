"""Adaptive baselines: median ± k robust deviations, a floor, seasonality once history allows."""

from __future__ import annotations

import random

import pytest

from monitoring.alerting.baseline import BaselineConfig, Seasonality, baseline, center_and_spread

NOW = 1_800_000_000.0  # a Friday, 08:00 UTC


def test_the_band_is_the_median_plus_minus_k_robust_deviations():
    rng = random.Random(3)
    recent = [(NOW - 60 * i, 50 + rng.gauss(0, 2)) for i in range(200)]
    band = baseline(recent=recent, at=NOW, config=BaselineConfig(k=3, relative_floor=0.0))
    assert band is not None and band.seasonality == Seasonality.NONE
    assert band.center == pytest.approx(50, abs=0.5) and band.spread == pytest.approx(2, rel=0.2)
    assert band.high == pytest.approx(band.center + 3 * band.spread)
    assert band.low < band.clear_low < band.center < band.clear_high < band.high


def test_an_outlier_barely_moves_a_robust_baseline():
    values = [10.0] * 50 + [10_000.0] * 5
    center, spread = center_and_spread(values)
    assert center == 10.0 and spread == 0.0


def test_a_steady_series_gets_the_floor():
    band = baseline(recent=[(NOW - 60 * i, 100.0) for i in range(60)], at=NOW,
                    config=BaselineConfig(relative_floor=0.05))
    assert band is not None and band.spread == pytest.approx(5.0)


def test_there_is_no_band_before_enough_points():
    assert baseline(recent=[(NOW - 60 * i, 1.0) for i in range(10)], at=NOW) is None


def daily(days: int, *, peak_hour: int, weekend_low: bool = False):
    """Hourly points: busy (80) at `peak_hour`, quiet (20) otherwise; weekends quiet all day."""
    import time

    points = []
    for h in range(days * 24):
        t = NOW - 3600 * (h + 1)
        moment = time.gmtime(t)
        busy = moment.tm_hour == peak_hour and not (weekend_low and moment.tm_wday >= 5)
        points.append((t, 80.0 if busy else 20.0))
    return points


def test_with_days_of_history_the_baseline_is_that_of_the_same_hour():
    recent = [(NOW - 60 * i, 20.0) for i in range(120)]
    band = baseline(recent=recent, history=daily(5, peak_hour=8), at=NOW)
    assert band is not None and band.seasonality == Seasonality.HOUR_OF_DAY
    assert band.center == 80.0  # 08:00 is the busy hour: 80 is normal now
    quiet = baseline(recent=recent, history=daily(5, peak_hour=8), at=NOW + 3 * 3600)
    assert quiet is not None and quiet.center == 20.0


def test_with_weeks_of_history_weekdays_and_weekends_differ():
    history = daily(28, peak_hour=8, weekend_low=True)
    friday = baseline(recent=[], history=history, at=NOW)
    saturday = baseline(recent=[], history=history, at=NOW + 86400)
    assert friday is not None and friday.seasonality == Seasonality.HOUR_OF_WEEK and friday.center == 80.0
    assert saturday is not None and saturday.center == 20.0
