from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


def test_the_schema_describes_the_realtime_http_endpoints():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert set(paths["/api/notifications/"]) == {"get", "post"}
    assert "201" in paths["/api/notifications/"]["post"]["responses"]
    page = paths["/api/notifications/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert {"count", "results"} <= set(schema["components"]["schemas"][page.rsplit("/", 1)[1]]["properties"])
    assert "202" in paths["/ws/broadcast"]["post"]["responses"]
    assert {"/ws/stats", "/ws/rooms", "/api/notifications/read/", "/api/notifications/{notification_id}/read/"} <= set(
        paths)
    stats = schema["components"]["schemas"]["Stats"]["properties"]
    assert {"connections", "users", "rooms", "messages_in", "messages_out", "errors"} <= set(stats)
