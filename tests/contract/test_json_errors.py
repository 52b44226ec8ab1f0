"""Every error under /api/, /ws/ and /metrics is JSON `{"detail": "..."}`, with DEBUG on and off:
Django's own 400s (too many fields, a body too large, suspicious requests), CSRF, 404, 405, 415, 500."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import api_client_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.contract.urls_with_crash")]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings) -> bool:
    settings.DEBUG = request.param
    return request.param


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_an_unknown_api_path_is_a_json_404(debug, owner):
    assert_json_error(api_client_for(owner).get("/api/nothing-here/"), 404)
    assert_json_error(api_client_for(owner).get("/ws/nothing-here"), 404)


def test_a_crash_is_a_json_500_without_the_traceback(debug):
    client = Client(raise_request_exception=False)
    for path in ("/api/test-crash/", "/ws/test-crash"):
        body = assert_json_error(client.get(path), 500)
        assert "a bug" not in json.dumps(body)


def test_a_suspicious_request_is_a_json_400(debug):
    assert_json_error(Client().get("/api/test-suspicious/"), 400)


def test_too_many_query_parameters_is_a_json_400(debug, owner, settings):
    query = "&".join(f"p{i}=x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    body = assert_json_error(api_client_for(owner).get(f"/api/courses/?{query}"), 400)
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in body["detail"]


def test_too_many_form_fields_in_an_upload_is_a_json_400(debug, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = api_client_for(owner).post(
        "/api/uploads/", {**fields, "file": SimpleUploadedFile("a.txt", b"hi")}, format="multipart")
    assert_json_error(response, 400)


def test_a_form_body_where_json_is_expected_is_a_json_415(debug, staff):
    response = api_client_for(staff).post(
        "/api/analytics/cache/clear", "&".join(["tags=x"] * 1001), content_type="application/x-www-form-urlencoded")
    assert_json_error(response, 415)


def test_a_json_body_over_the_memory_limit_is_a_json_413(debug, owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api_client_for(owner).post(
        "/api/courses/", json.dumps({"title": "x" * 2048}), content_type="application/json")
    assert_json_error(response, 413)


def test_a_session_post_without_a_csrf_token_is_a_json_403(debug, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/api/courses/", json.dumps({"title": "t"}), content_type="application/json")
    assert "CSRF" in assert_json_error(response, 403)["detail"]


def test_a_method_the_route_does_not_serve_is_a_json_405(debug, owner):
    response = api_client_for(owner).delete("/api/courses/")
    assert_json_error(response, 405)
    assert "GET" in response["Allow"]


def test_pages_outside_the_api_keep_html_errors(debug):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
