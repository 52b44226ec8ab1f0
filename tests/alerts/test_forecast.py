"""Time to full on synthetic fills: within 10 % on steady ones; nothing on flat, noisy-flat,
emptying series or after a single step."""

from __future__ import annotations

import random

import pytest

from monitoring.alerting.forecast import forecast

NOW = 1_800_000_000.0
WINDOW = 6 * 3600
STEP = 60  # one point a minute (the minute rollups)
HOUR = 3600


def series(value_at, *, noise: float = 0.0, seed: int = 1):
    rng = random.Random(seed)
    return [(t, value_at(t) + rng.gauss(0, noise)) for t in range(int(NOW - WINDOW), int(NOW) + 1, STEP)]


@pytest.mark.parametrize(("rate_per_hour", "start"), [(2.0, 50.0), (0.5, 70.0), (10.0, 20.0)])
def test_a_steady_fill_is_forecast_within_ten_percent(rate_per_hour, start):
    points = series(lambda t: start + rate_per_hour * (t - (NOW - WINDOW)) / HOUR)
    result = forecast(points, limit=100.0, now=NOW)
    now_value = start + rate_per_hour * WINDOW / HOUR
    expected = (100.0 - now_value) / rate_per_hour * HOUR
    assert result is not None and result.seconds_to_limit == pytest.approx(expected, rel=0.10)
    assert result.reaches_within(expected * 1.05) and not result.reaches_within(expected * 0.8)


@pytest.mark.parametrize("seed", range(5))
def test_a_noisy_steady_fill_is_forecast_within_ten_percent(seed):
    points = series(lambda t: 60.0 + 2.0 * (t - (NOW - WINDOW)) / HOUR, noise=0.5, seed=seed)
    result = forecast(points, limit=100.0, now=NOW)
    expected = (100.0 - 72.0) / 2.0 * HOUR
    assert result is not None and result.seconds_to_limit == pytest.approx(expected, rel=0.10)
    assert result.reaches_within(24 * HOUR)


def test_a_flat_series_never_reaches_the_limit():
    result = forecast(series(lambda t: 85.0), limit=100.0, now=NOW)
    assert result is not None and result.seconds_to_limit is None and not result.reaches_within(24 * HOUR)


@pytest.mark.parametrize("seed", range(20))
def test_a_noisy_flat_series_near_the_limit_does_not_alert(seed):
    result = forecast(series(lambda t: 92.0, noise=1.5, seed=seed), limit=100.0, now=NOW)
    assert result is not None and not result.reaches_within(24 * HOUR)


def test_an_emptying_disk_does_not_alert():
    result = forecast(series(lambda t: 95.0 - 3.0 * (t - (NOW - WINDOW)) / HOUR, noise=0.3), limit=100.0, now=NOW)
    assert result is not None and result.seconds_to_limit is None and result.slope_per_hour < 0


def test_a_single_step_then_flat_does_not_alert():
    # A big file written 4 h ago: the window's fit still rises, its recent half is flat.
    points = series(lambda t: 50.0 if t < NOW - 4 * HOUR else 75.0, noise=0.2)
    result = forecast(points, limit=100.0, now=NOW)
    assert result is not None and result.seconds_to_limit is not None  # the whole window alone would alert
    assert result.recent_seconds_to_limit is None and not result.reaches_within(24 * HOUR)


def test_a_value_already_at_the_limit_is_full_now():
    result = forecast(series(lambda t: 70.0 + 5.0 * (t - (NOW - WINDOW)) / HOUR), limit=100.0, now=NOW)
    assert result is not None and result.seconds_to_limit == 0.0


def test_too_little_history_gives_no_forecast():
    assert forecast([(NOW - 60 * i, 50.0 + i) for i in range(5)], limit=100.0, now=NOW) is None
    assert forecast([(NOW - 10 * i, 50.0 + i) for i in range(50)], limit=100.0, now=NOW) is None  # 8 minutes
