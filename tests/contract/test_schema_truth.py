"""The schema covers every API route, generates without a warning, and says who may call
each operation and what each can answer; an undescribed endpoint fails these checks."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.management.commands.spectacular import SchemaGenerationError

from tests.contract.test_auth_matrix import routes

pytestmark = pytest.mark.django_db

# Served for people and tools, not described as operations of the API itself.
NOT_OPERATIONS = {"/api/schema/", "/api/docs/"}


def openapi_path(pattern: str) -> str:
    path = "/" + pattern
    while "<" in path:
        start = path.index("<")
        name = path[start + 1:path.index(">", start)].split(":")[-1]
        path = path[:start] + "{" + name + "}" + path[path.index(">", start) + 1:]
    return path


def test_every_api_route_is_in_the_schema():
    paths = set(SchemaGenerator().get_schema(request=None, public=True)["paths"])
    api_routes = {openapi_path(r.pattern) for r in routes() if r.pattern.startswith(("api/", "ws/", "metrics"))}
    assert api_routes - NOT_OPERATIONS - paths == set()


def test_the_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_an_endpoint_without_a_description_fails_the_schema_check(tmp_path):
    with pytest.raises(SchemaGenerationError):
        call_command("spectacular", "--fail-on-warn", "--urlconf", "tests.contract.urls_undocumented",
                     "--file", str(tmp_path / "schema.yml"))


def test_every_operation_declares_its_audience_and_error_statuses():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("x-access") in {"public", "user", "staff", "staff_or_token"}, where
            codes = set(operation["responses"])
            assert "400" in codes, where
            if operation["x-access"] != "public":
                assert "401" in codes, where
            if operation["x-access"] == "staff":
                assert "403" in codes, where
            if "{" in path:
                assert "404" in codes, where
            for code, response in operation["responses"].items():
                # 4xx are errors of the caller: one shape. (A 503 may carry a body of its own:
                # health says which check failed.)
                if "400" <= code < "500":
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/Error"}, where


def test_paginated_lists_are_described_as_pages():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/uploads/", "/api/courses/", "/api/notifications/"):
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert {"count", "next", "previous", "results"} <= set(schema["components"]["schemas"][ref]["properties"])
        assert {p["name"] for p in operation["parameters"]} >= {"page", "page_size"}
