"""Hysteresis: a rule fires beyond its threshold and clears only past its clear threshold."""

from __future__ import annotations

import pytest

from monitoring.alerting.conditions import Comparison, band_breach, clear_is_consistent, static_breach


@pytest.mark.parametrize(("value", "active", "expected"), [
    (95, False, True), (90, False, False), (85, False, False),  # starts only above 90
    (85, True, True), (80, True, True), (79.9, True, False),  # once active, holds until below 80
])
def test_an_above_rule_has_hysteresis(value, active, expected):
    assert static_breach(value, comparison=Comparison.ABOVE, threshold=90, clear_threshold=80,
                         active=active) is expected


@pytest.mark.parametrize(("value", "active", "expected"), [
    (5, False, True), (15, False, False), (15, True, True), (21, True, False)])
def test_a_below_rule_mirrors_it(value, active, expected):
    assert static_breach(value, comparison=Comparison.BELOW, threshold=10, clear_threshold=20,
                         active=active) is expected


def test_without_a_clear_threshold_the_threshold_clears():
    assert static_breach(89, comparison=Comparison.ABOVE, threshold=90, clear_threshold=None, active=True) is False


def test_a_band_breaches_outside_and_clears_inside_the_narrower_band():
    kwargs = {"comparison": Comparison.OUTSIDE, "low": 10, "high": 20, "clear_low": 12, "clear_high": 18}
    assert band_breach(21, active=False, **kwargs) and band_breach(9, active=False, **kwargs)
    assert not band_breach(19, active=False, **kwargs)
    assert band_breach(19, active=True, **kwargs) and not band_breach(17, active=True, **kwargs)
    assert not band_breach(5, active=False, **{**kwargs, "comparison": Comparison.ABOVE})


def test_a_clear_threshold_on_the_wrong_side_is_inconsistent():
    assert clear_is_consistent(comparison=Comparison.ABOVE, threshold=90, clear_threshold=80)
    assert not clear_is_consistent(comparison=Comparison.ABOVE, threshold=90, clear_threshold=95)
    assert not clear_is_consistent(comparison=Comparison.BELOW, threshold=10, clear_threshold=5)
