from __future__ import annotations

import pytest

from monitoring import histogram
from monitoring.histogram import LATENCY_BOUNDS, bucket_index, cumulative, quantile


def test_an_observation_on_a_bound_falls_in_that_bucket_like_prometheus_le():
    assert bucket_index(LATENCY_BOUNDS, 0.005) == 0
    assert bucket_index(LATENCY_BOUNDS, 0.0051) == 1
    assert bucket_index(LATENCY_BOUNDS, 0.0) == 0
    assert bucket_index(LATENCY_BOUNDS, 99.0) == len(LATENCY_BOUNDS)  # +Inf


def test_quantiles_interpolate_within_a_bucket():
    bounds = (1.0, 2.0, 4.0)
    counts = [0, 10, 0, 0]  # ten observations in (1, 2]
    assert quantile(bounds, counts, 0.5) == 1.5
    assert quantile(bounds, counts, 1.0) == 2.0
    assert quantile(bounds, [4, 4, 2, 0], 0.9) == 3.0  # rank 9 of 10: half-way through (2, 4]


def test_a_quantile_in_the_overflow_bucket_is_the_highest_bound():
    assert quantile((1.0, 2.0), [0, 0, 5], 0.99) == 2.0


def test_no_observations_no_quantile():
    assert quantile(LATENCY_BOUNDS, histogram.empty(LATENCY_BOUNDS), 0.5) is None
    with pytest.raises(ValueError):
        quantile(LATENCY_BOUNDS, [1], 1.5)


def test_histograms_merge_field_by_field_and_accumulate():
    assert histogram.merge([1, 2, 3], [1, 1, 1, 4]) == [2, 3, 4, 4]
    assert cumulative([1, 0, 2, 1]) == [1, 1, 3, 4]
