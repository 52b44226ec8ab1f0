"""Every operation of the OpenAPI schema, fuzzed by schemathesis against a live server, as a
plain user and as staff: no server error, no undocumented status, responses that match the
schema, schema-valid requests accepted, invalid ones refused, every error JSON.

The operations come from the schema itself, so an endpoint is covered the day it exists.
Requests go over real HTTP (pytest-django's live server), so what is checked is what a
client's HTTP library sends, multipart encoding included.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from tests.conftest import access_token, make_user

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
# The same examples on every run unless SCHEMATHESIS_RANDOM is set (explore locally; keep CI repeatable).
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize=not os.environ.get("SCHEMATHESIS_RANDOM"), suppress_health_check=list(HealthCheck))

# Loaded at collection from the app itself: the schema is generated from the code.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
MAX_RANGE = timedelta(days=366)


def coherent_range(query: dict[str, Any] | None) -> dict[str, Any] | None:
    """What OpenAPI can't say about ranges (analytics' export and reports): `start` before `end`,
    within 366 days, and `days` or a range, not both. Values that are not dates stay as generated."""
    if not query or "start" not in query:
        return query
    try:
        start = datetime.fromisoformat(str(query["start"]))
        end = datetime.fromisoformat(str(query.get("end", query["start"])))
    except ValueError:
        return query
    if start.tzinfo is None or end.tzinfo is None:
        return query
    query.pop("days", None)
    if not timedelta(0) < end - start <= MAX_RANGE:
        moved = start + timedelta(hours=1) if start.year < 9999 else start
        query["start"], query["end"] = (start, moved) if moved > start else (start - timedelta(hours=1), start)
        query["start"], query["end"] = query["start"].isoformat(), query["end"].isoformat()
    return query


@pytest.fixture
def server(live_server, tmp_path, settings) -> str:
    settings.MEDIA_ROOT = tmp_path  # uploads the fuzzer sends land in the test's own directory
    return live_server.url


def call_as(case: Any, base_url: str, django_user_model: Any, *, staff: bool) -> None:
    username = "fuzz-staff" if staff else "fuzz-user"
    user = django_user_model.objects.filter(username=username).first() or make_user(username, staff=staff)
    case.query = coherent_range(case.query)  # every phase (coverage included) goes through here
    response = case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {access_token(user)}"})
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/json"), f"{response.status_code}: {response.text[:300]}"
        assert isinstance(response.json().get("detail"), str), response.text[:300]


@schema.parametrize()
@FUZZ
def test_every_operation_keeps_its_schema_for_a_user(case, server, django_user_model):
    call_as(case, server, django_user_model, staff=False)


@schema.parametrize()
@FUZZ
def test_every_operation_keeps_its_schema_for_staff(case, server, django_user_model):
    call_as(case, server, django_user_model, staff=True)
