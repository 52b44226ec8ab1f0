from __future__ import annotations

import pytest

from tests.cache import urls as views
from tests.conftest import api_client_for

pytestmark = pytest.mark.urls("tests.cache.urls")


@pytest.fixture(autouse=True)
def _fresh(default_cache):
    views.served["count"] = 0


def test_a_second_get_is_served_from_the_cache(owner_client):
    first = owner_client.get("/things/")
    second = owner_client.get("/things/")
    assert first.status_code == second.status_code == 200
    assert first["X-Cache"] == "MISS" and second["X-Cache"] == "HIT"
    assert second.json() == first.json() == {"user": "owner", "count": 1, "q": None}
    assert views.served["count"] == 1


def test_one_users_response_is_never_served_to_another(owner_client, outsider_client, staff_client):
    assert owner_client.get("/things/").json()["user"] == "owner"
    assert outsider_client.get("/things/").json()["user"] == "outsider"
    assert staff_client.get("/things/").json()["user"] == "staff"
    assert owner_client.get("/things/").json()["user"] == "owner"
    assert views.served["count"] == 3


def test_a_session_user_is_kept_apart_too(client, owner, outsider):
    client.force_login(owner)
    assert client.get("/things/").json()["user"] == "owner"
    client.force_login(outsider)
    assert client.get("/things/").json()["user"] == "outsider"


def test_anonymous_and_bad_tokens_get_401_even_when_an_entry_exists(owner_client, anon_client):
    owner_client.get("/things/")
    assert anon_client.get("/things/").status_code == 401
    bad = api_client_for()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.get("/things/").status_code == 401
    assert anon_client.get("/things/").status_code == 401  # the 401 was not cached either


def test_query_strings_are_part_of_the_key(owner_client):
    assert owner_client.get("/things/?q=a").json()["q"] == "a"
    assert owner_client.get("/things/?q=b").json()["q"] == "b"
    assert owner_client.get("/things/?q=a").json()["count"] == 1


def test_no_cache_from_the_client_skips_the_entry_and_refreshes_it(owner_client):
    owner_client.get("/things/")
    fresh = owner_client.get("/things/", HTTP_CACHE_CONTROL="no-cache")
    assert fresh.json()["count"] == 2 and fresh["X-Cache"] == "MISS"
    assert owner_client.get("/things/").json()["count"] == 2


def test_etag_and_304(owner_client):
    first = owner_client.get("/things/")
    etag = first["ETag"]
    assert etag.startswith('"')
    not_modified = owner_client.get("/things/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified["ETag"] == etag
    assert owner_client.get("/things/", HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert views.served["count"] == 1


def test_tag_invalidation_refreshes_the_response(owner_client, default_cache):
    owner_client.get("/things/")
    owner_client.get("/things/7/")
    default_cache.invalidate_tags(["things"])
    assert owner_client.get("/things/").json()["count"] == 3
    assert owner_client.get("/things/7/").json()["count"] == 2  # other tag: still cached
    default_cache.invalidate_tags(["thing:7"])
    assert owner_client.get("/things/7/").json()["count"] == 4


def test_views_that_did_not_opt_in_and_posts_are_not_cached(owner_client):
    assert owner_client.get("/uncached/").json()["count"] == 1
    assert owner_client.get("/uncached/").json()["count"] == 2
    assert owner_client.post("/things/").json()["count"] == 3
    assert owner_client.post("/things/").json()["count"] == 4


def test_function_views_can_opt_in(client):
    assert client.get("/public/").json() == client.get("/public/").json() == {"count": 1}


def test_responses_vary_on_credentials(owner_client):
    vary = owner_client.get("/things/")["Vary"]
    assert "Authorization" in vary and "Cookie" in vary
