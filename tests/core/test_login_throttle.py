"""Failed logins are throttled per username and per address: 429 with Retry-After, counted in the
shared cache (every web process sees the same count); a good password is never slowed by others."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db
URL = "/api/auth/token/"


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 60


def client_from(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def fresh_address() -> str:
    value = uuid.uuid4().int
    return f"10.{value % 250}.{value // 250 % 250}.{value // 62500 % 250 + 1}"


def login(client: APIClient, username: str, password: str):
    return client.post(URL, {"username": username, "password": password}, format="json")


def test_a_username_is_throttled_after_repeated_failures_from_anywhere(limits):
    user = make_user(f"victim-{uuid.uuid4().hex[:8]}")
    for _ in range(3):
        assert login(client_from(fresh_address()), user.username, "wrong").status_code == 401
    response = login(client_from(fresh_address()), user.username, PASSWORD)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["detail"]


def test_an_address_is_throttled_after_failures_on_any_accounts(limits):
    address = fresh_address()
    for i in range(5):
        assert login(client_from(address), f"nobody-{uuid.uuid4().hex[:8]}-{i}", "wrong").status_code == 401
    assert login(client_from(address), "anyone", "wrong").status_code == 429
    assert login(client_from(fresh_address()), "anyone", "wrong").status_code == 401  # others are not affected


def test_successful_logins_are_not_counted_and_reset_the_username(limits):
    user = make_user(f"regular-{uuid.uuid4().hex[:8]}")
    client = client_from(fresh_address())
    for _ in range(2):
        assert login(client, user.username, "wrong").status_code == 401
    for _ in range(5):
        assert login(client, user.username, PASSWORD).status_code == 200
    for _ in range(2):
        assert login(client, user.username, "wrong").status_code == 401  # the count started again


def test_the_schema_documents_the_429(owner_client):
    operation = owner_client.get("/api/schema/?format=json").json()["paths"][URL]["post"]
    assert {"401", "429"} <= set(operation["responses"])
    assert "Retry-After" in operation["responses"]["429"]["headers"]
