from __future__ import annotations

import pytest
from django.contrib import admin

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_describes_the_api(owner_client):
    response = owner_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/uploads/", "/api/courses/", "/api/auth/token/"} <= set(paths)


def test_swagger_ui_is_served_without_a_cdn(owner_client):
    response = owner_client.get("/api/docs/")
    assert response.status_code == 200
    assert b"cdn" not in response.content.lower()


def test_every_model_has_a_working_admin_changelist(client, django_user_model):
    operator = django_user_model.objects.create_superuser("op", "op@example.com", "pw-op-123456")
    client.force_login(operator)
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = client.get(url, {"q": "x"} if model_admin.search_fields else {})
        assert response.status_code == 200, url


def test_non_staff_cannot_open_the_admin(client, owner):
    client.force_login(owner)
    assert client.get("/admin/core/upload/").status_code == 302

