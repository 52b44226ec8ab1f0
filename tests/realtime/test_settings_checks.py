from __future__ import annotations

from realtime.checks import realtime_settings


def ids(settings) -> list[str]:
    return [e.id for e in realtime_settings()]


def test_the_default_settings_pass(settings):
    assert ids(settings) == []


def test_a_heartbeat_not_shorter_than_the_ttl_is_an_error(settings):
    settings.REALTIME_PRESENCE_HEARTBEAT = settings.REALTIME_PRESENCE_TTL
    assert ids(settings) == ["realtime.E002"]


def test_a_non_positive_limit_is_an_error(settings):
    settings.REALTIME_RATE_BURST = 0
    assert ids(settings) == ["realtime.E001"]


def test_the_flood_code_must_be_an_application_code(settings):
    settings.REALTIME_FLOOD_CLOSE_CODE = 1000
    assert ids(settings) == ["realtime.E003"]
