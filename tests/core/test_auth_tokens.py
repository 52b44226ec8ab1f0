from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import PASSWORD, api_client_for

pytestmark = pytest.mark.django_db


def test_it_issues_access_and_refresh_for_good_credentials(anon_client, owner):
    response = anon_client.post("/api/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert set(response.json()) >= {"access", "refresh"}


def test_it_rejects_wrong_credentials_with_401(anon_client, owner):
    response = anon_client.post("/api/auth/token/", {"username": "owner", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_it_rejects_a_malformed_body_with_field_errors(anon_client):
    response = anon_client.post("/api/auth/token/", {"username": "owner"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_it_refreshes_an_access_token(anon_client, owner):
    tokens = anon_client.post("/api/auth/token/", {"username": "owner", "password": PASSWORD}, format="json").json()
    response = anon_client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    assert AccessToken(response.json()["access"])["user_id"] == str(owner.id)


def test_it_rejects_a_bad_refresh_token_with_401(anon_client):
    response = anon_client.post("/api/auth/token/refresh/", {"refresh": "garbage"}, format="json")
    assert response.status_code == 401


def test_it_requires_a_token_on_api_endpoints(anon_client):
    response = anon_client.get("/api/uploads/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_it_rejects_an_invalid_token(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert anon_client.get("/api/uploads/").status_code == 401


def test_it_rejects_an_expired_token(anon_client, owner):
    token = AccessToken.for_user(owner)
    token.set_exp(lifetime=-timedelta(seconds=1))
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anon_client.get("/api/uploads/").status_code == 401


def test_it_accepts_a_valid_token(owner):
    assert api_client_for(owner).get("/api/uploads/").status_code == 200


def test_it_accepts_a_django_session(client, owner):
    client.force_login(owner)
    assert client.get("/api/uploads/").status_code == 200


def test_unknown_api_paths_are_json_404(owner_client):
    response = owner_client.get("/api/does-not-exist/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
