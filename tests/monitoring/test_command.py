from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from monitoring import redis_store
from tecnocursos.lib.redis_urls import RedisUrls
from tests.cache.conftest import free_port

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = StringIO()
    call_command("monitoring", *args, stdout=out)
    return json.loads(out.getvalue())


def test_status_collect_pause_resume_rollup_and_retention():
    assert run("status")["latest_sample"] is None
    assert run("collect")["host"]
    assert run("status")["latest_sample"]["memory_percent"] > 0
    assert run("pause")["collecting"] is False and redis_store.collecting() is False
    assert run("resume")["collecting"] is True
    assert "system_minutes" in run("rollup")
    assert set(run("retention")) >= {"snapshots", "metric_rollups", "request_rollups"}


def test_with_redis_down_it_fails_with_one_line(settings):
    settings.REDIS = RedisUrls.parse(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(CommandError, match="Redis"):
        call_command("monitoring", "pause")


def test_an_unknown_action_is_refused():
    with pytest.raises(CommandError):
        call_command("monitoring", "explode")
