"""The default anomaly scorer, safe message templates and the webhook bodies."""

from __future__ import annotations

import json
import random

import pytest

from monitoring.alerting import payloads
from monitoring.alerting.scoring import checked_score, robust_zscore, z_to_score
from monitoring.alerting.templates import humanize_seconds, render


def test_a_spike_scores_high_and_a_normal_value_low():
    rng = random.Random(5)
    history = [100 + rng.gauss(0, 3) for _ in range(200)]
    normal, state = robust_zscore([*history, 101.0], None)
    spike, _ = robust_zscore([*history, 160.0], None)
    assert normal < 0.2 and spike > 0.95
    json.dumps(state)


def test_the_scorer_warms_up_first():
    score, state = robust_zscore([1.0, 2.0, 50.0], None)
    assert score == 0.0 and state["warming_up"]


def test_scores_map_z_onto_zero_one():
    assert z_to_score(0) == 0 and z_to_score(3) == pytest.approx(0.5) and z_to_score(float("inf")) == 1.0


@pytest.mark.parametrize("bad", [float("nan"), "0.5", None, True])
def test_a_scorer_answer_that_is_not_a_number_is_refused(bad):
    with pytest.raises(ValueError):
        checked_score(bad)


def test_scores_outside_zero_one_are_clipped():
    assert checked_score(1.7) == 1.0 and checked_score(-2) == 0.0


def test_templates_fill_fields_and_refuse_attribute_access():
    assert render("CPU {value:.1f}% on {host}", {"value": 93.456, "host": "web"}, fallback="x") == "CPU 93.5% on web"
    assert render("{value.__class__}", {"value": 1.0}, fallback="plain") == "plain"
    assert render("{value[0]}", {"value": [1]}, fallback="plain") == "plain"
    assert render("{value:d}", {"value": 1.5}, fallback="plain") == "plain"
    assert render("{unknown} stays", {}, fallback="plain") == "{unknown} stays"
    assert render("", {}, fallback="plain") == "plain"


def test_durations_read_as_people_say_them():
    assert humanize_seconds(1800) == "~30 min" and humanize_seconds(5400) == "~1.5 h"
    assert humanize_seconds(20 * 3600) == "~20 h" and humanize_seconds(3 * 86400) == "~3.0 d"


MESSAGE = payloads.AlertMessage(notice="firing", rule="Disk will fill within 4 h", severity="critical",
                                summary="/data full in ~3.2 h", fingerprint="abc", started_at=1_800_000_000.0,
                                value=85.0, threshold=80.0, labels={"host": "h1", "mount": "/data"},
                                url="https://ops.example.com/admin/monitoring/alert/1/change/")


def test_slack_gets_text_and_a_coloured_attachment():
    body = payloads.slack(MESSAGE)
    assert body["text"].startswith("[CRITICAL] Disk will fill within 4 h")
    [attachment] = body["attachments"]
    assert attachment["color"] == payloads.COLORS["critical"] and attachment["title_link"] == MESSAGE.url
    assert {"title": "mount", "value": "/data", "short": True} in attachment["fields"]


def test_teams_gets_an_adaptive_card():
    body = payloads.teams(MESSAGE)
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"].startswith("[CRITICAL]")
    assert {"title": "host", "value": "h1"} in card["body"][2]["facts"]


def test_the_generic_body_is_alertmanagers_webhook_shape():
    resolved = payloads.AlertMessage(**{**MESSAGE.__dict__, "notice": "resolved", "ended_at": 1_800_003_600.0})
    body = payloads.alertmanager(resolved, receiver="ops")
    assert body["version"] == "4" and body["status"] == "resolved" and body["receiver"] == "ops"
    [alert] = body["alerts"]
    assert alert["labels"] == {"alertname": "Disk will fill within 4 h", "severity": "critical", "host": "h1",
                               "mount": "/data"}
    assert alert["startsAt"] == "2027-01-15T08:00:00Z" and alert["endsAt"] == "2027-01-15T09:00:00Z"
    assert alert["fingerprint"] == "abc" and alert["annotations"]["summary"] == "/data full in ~3.2 h"
