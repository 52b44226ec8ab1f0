"""How one reading of a rule's metric is judged, per kind of rule: static (hysteresis),
adaptive (the robust band), predictive (the forecast and its static guard) and anomaly (the
configured scorer). Django-side: it reads history through the sources and keeps baselines and
scorer state in the rule's `state`, per fingerprint.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from monitoring.alerting import baseline, forecast, templates
from monitoring.alerting.conditions import Comparison, band_breach, static_breach
from monitoring.alerting.models import AlertRule
from monitoring.alerting.scoring import AnomalyScorer, checked_score
from monitoring.alerting.sources import SOURCES, Context, Reading, Source, SourceError
from monitoring.models import Tier

BASELINE_REFRESH_SECONDS = 300  # a band is recomputed this often per series (history moves slowly)
SEASONAL_HISTORY = timedelta(days=28)
MAX_MINUTE_WINDOW = timedelta(days=13)  # within the minute rollups' retention


@dataclass
class Judgement:
    breaching: bool
    value: float
    threshold: float | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def source_of(rule: AlertRule) -> Source:
    source = SOURCES.get(rule.metric)
    if source is None:
        raise SourceError(f"unknown metric {rule.metric!r}")
    return source


def _series_state(rule: AlertRule, fingerprint: str) -> dict[str, Any]:
    series: dict[str, Any] = rule.state.setdefault("series", {})
    entry: dict[str, Any] = series.setdefault(fingerprint, {})
    return entry


def _history(rule: AlertRule, reading: Reading, context: Context, span: timedelta, tier: str = Tier.MINUTE
             ) -> list[tuple[float, float]]:
    """The series behind a reading; rules over the same series in one pass read it once."""
    source = source_of(rule)
    history = source.history
    if history is None:
        raise SourceError(f"{rule.metric} has no history: only static rules can watch it")
    key = ("history", rule.metric, tuple(sorted(reading.labels.items())), span, tier)
    points: list[tuple[float, float]] = context.once(
        key, lambda: history(reading.labels, context.now - span, context.now, tier))
    return points


def _labels_text(reading: Reading) -> str:
    return "".join(f" {name}={value}" for name, value in sorted(reading.labels.items()))


def _fields(rule: AlertRule, reading: Reading, **extra: Any) -> dict[str, Any]:
    return {"rule": rule.name, "metric": rule.metric, "value": reading.value, "threshold": rule.threshold,
            "unit": source_of(rule).unit, **reading.labels, **extra}


def _message(rule: AlertRule, reading: Reading, fallback: str, **extra: Any) -> str:
    return templates.render(rule.summary, _fields(rule, reading, **extra), fallback=fallback)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def judge(rule: AlertRule, reading: Reading, *, fingerprint: str, active: bool, context: Context) -> Judgement:
    kinds = {AlertRule.Kind.STATIC: _static, AlertRule.Kind.ADAPTIVE: _adaptive,
             AlertRule.Kind.PREDICTIVE: _predictive, AlertRule.Kind.ANOMALY: _anomaly}
    return kinds[AlertRule.Kind(rule.kind)](rule, reading, fingerprint, active, context)


def _static(rule: AlertRule, reading: Reading, fingerprint: str, active: bool, context: Context) -> Judgement:
    if rule.threshold is None:
        raise SourceError("a static rule needs a threshold")
    comparison = Comparison(rule.comparison)
    breaching = static_breach(reading.value, comparison=comparison, threshold=rule.threshold,
                              clear_threshold=rule.clear_threshold, active=active)
    unit = source_of(rule).unit
    fallback = (f"{rule.metric} is {_fmt(reading.value)}{unit} ({comparison} {_fmt(rule.threshold)}{unit})"
                f"{_labels_text(reading)}")
    return Judgement(breaching, reading.value, rule.threshold, _message(rule, reading, fallback))


def _band(rule: AlertRule, reading: Reading, fingerprint: str, context: Context) -> baseline.Band | None:
    state = _series_state(rule, fingerprint)
    cached = state.get("band")
    now = context.now.timestamp()
    if cached and now - float(cached.get("computed_at", 0)) < BASELINE_REFRESH_SECONDS:
        return baseline.Band(**{**{k: v for k, v in cached.items() if k != "computed_at"},
                                "seasonality": baseline.Seasonality(cached["seasonality"])})
    recent = _history(rule, reading, context, min(timedelta(seconds=rule.window_seconds), MAX_MINUTE_WINDOW))
    seasonal = _history(rule, reading, context, SEASONAL_HISTORY, Tier.HOUR)
    band = baseline.baseline(recent=recent, history=seasonal, at=now,
                             config=baseline.BaselineConfig(k=rule.sensitivity, floor=rule.band_floor))
    state["band"] = None if band is None else {**band.as_dict(), "computed_at": now}
    return band


def _adaptive(rule: AlertRule, reading: Reading, fingerprint: str, active: bool, context: Context) -> Judgement:
    band = _band(rule, reading, fingerprint, context)
    if band is None:
        return Judgement(False, reading.value, None, f"{rule.metric}: learning its baseline{_labels_text(reading)}",
                         {"band": None})
    comparison = Comparison(rule.comparison)
    breaching = band_breach(reading.value, comparison=comparison, low=band.low, high=band.high,
                            clear_low=band.clear_low, clear_high=band.clear_high, active=active)
    threshold = band.low if comparison == Comparison.BELOW or (
        comparison == Comparison.OUTSIDE and reading.value < band.center) else band.high
    fallback = (f"{rule.metric} is {_fmt(reading.value)}, outside its usual band [{_fmt(band.low)}, "
                f"{_fmt(band.high)}] ({band.seasonality}){_labels_text(reading)}")
    message = _message(rule, reading, fallback, band_low=band.low, band_high=band.high)
    return Judgement(breaching, reading.value, threshold, message, {"band": band.as_dict()})


def _predictive(rule: AlertRule, reading: Reading, fingerprint: str, active: bool, context: Context) -> Judgement:
    if rule.threshold is None or rule.limit is None or not rule.horizon_seconds:
        raise SourceError("a predictive rule needs a threshold (its guard), a limit and a horizon")
    horizon = float(rule.horizon_seconds)
    guard = static_breach(reading.value, comparison=Comparison.ABOVE, threshold=rule.threshold,
                          clear_threshold=None, active=False)
    result = None
    if guard:  # without the static guard no alert is possible: no regression needed
        points = _history(rule, reading, context, min(timedelta(seconds=rule.window_seconds), MAX_MINUTE_WINDOW))
        result = context.once(("forecast", rule.metric, tuple(sorted(reading.labels.items())), rule.window_seconds,
                               rule.limit), lambda: forecast.forecast(points, limit=float(rule.limit or 0),
                                                                      now=context.now.timestamp()))
    breaching = guard and result is not None and result.reaches_within(horizon)
    details: dict[str, Any] = {"forecast": None if result is None else result.as_dict(), "limit": rule.limit,
                               "horizon_seconds": horizon, "guard": guard}
    eta = None if result is None else result.seconds_to_limit
    when = templates.humanize_seconds(eta) if eta is not None else "not within the horizon"
    where = reading.labels.get("mount") or rule.metric
    fallback = f"{where} full in {when} ({rule.metric} {_fmt(reading.value)}, limit {_fmt(rule.limit)})" \
               f"{_labels_text(reading)}"
    message = _message(rule, reading, fallback, horizon=templates.humanize_seconds(horizon), time_to_limit=when)
    return Judgement(breaching, reading.value, rule.threshold, message, details)


@cache
def _scorer(path: str) -> AnomalyScorer:
    scorer: AnomalyScorer = import_string(path)
    return scorer


def _anomaly(rule: AlertRule, reading: Reading, fingerprint: str, active: bool, context: Context) -> Judgement:
    if rule.threshold is None:
        raise SourceError("an anomaly rule needs a threshold (a score within (0, 1])")
    points = _history(rule, reading, context, min(timedelta(seconds=rule.window_seconds), MAX_MINUTE_WINDOW))
    if points and points[-1][1] == reading.value:
        points = points[:-1]  # the latest sample is the reading itself
    state = _series_state(rule, fingerprint)
    try:
        raw, new_state = _scorer(settings.MONITORING_ALERTS_ANOMALY_SCORER)(
            [v for _, v in points] + [reading.value], state.get("scorer"))
        score = checked_score(raw)
        json.dumps(new_state)
    except (TypeError, ValueError) as exc:
        raise SourceError(f"anomaly scorer: {exc}") from exc
    state["scorer"] = new_state
    limit = rule.clear_threshold if active and rule.clear_threshold is not None else rule.threshold
    breaching = score >= limit
    fallback = f"{rule.metric} is {_fmt(reading.value)}: anomaly score {score:.2f}{_labels_text(reading)}"
    message = _message(rule, reading, fallback, score=score)
    return Judgement(breaching, reading.value, rule.threshold, message, {"score": score if math.isfinite(score)
                                                                         else None})
