"""tecnocursos.lib.timefmt: the one way moments are written (UTC, ISO 8601, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from tecnocursos.lib.timefmt import utc_iso


def test_it_writes_utc_with_a_z_and_no_fraction_when_there_is_none():
    assert utc_iso(datetime(2026, 11, 25, 17, 19, 38, tzinfo=UTC)) == "2026-11-25T17:19:38Z"


def test_it_keeps_the_microseconds_when_there_are_some():
    assert utc_iso(datetime(2026, 11, 25, 17, 19, 38, 250000, tzinfo=UTC)) == "2026-11-25T17:19:38.250000Z"
    assert utc_iso(datetime(2026, 11, 25, 17, 19, 38, 7, tzinfo=UTC)) == "2026-11-25T17:19:38.000007Z"


def test_it_converts_another_zone_to_utc():
    plus_two = timezone(timedelta(hours=2))
    assert utc_iso(datetime(2026, 11, 25, 1, 0, tzinfo=plus_two)) == "2026-11-24T23:00:00Z"


def test_it_matches_the_strftime_form_the_export_used():
    for moment in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=UTC)):
        expected = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")
        assert utc_iso(moment) == expected


def test_an_unknown_moment_stays_none():
    assert utc_iso(None) is None



def test_the_plain_alert_payloads_write_the_same_form():
    from monitoring.alerting import payloads  # keeps its own copy: it may not import tecnocursos (Celery)

    for at in (1_800_000_000.0, 1_800_000_000.25):
        assert payloads._iso(at) == utc_iso(datetime.fromtimestamp(at, tz=UTC))
