"""The request middleware: route names (never raw paths), statuses, latency, users, database work."""

from __future__ import annotations

import uuid

import pytest
from django.test import AsyncClient

from monitoring import selectors
from monitoring.recorder import recorder
from tests.conftest import access_token

pytestmark = pytest.mark.django_db


def counts() -> dict[tuple[str, str], dict[int, int]]:
    return {key: stats.statuses for key, stats in selectors.totals().requests.items()}


def test_requests_are_counted_by_route_name_method_and_status(anon_client, owner_client, flush):
    anon_client.get("/api/uploads/")
    owner_client.get("/api/uploads/")
    owner_client.get("/api/uploads/12345/")
    owner_client.post("/api/courses/", {"title": "T"}, format="json")
    flush()
    assert counts() == {("GET", "upload-list"): {401: 1, 200: 1}, ("GET", "upload-detail"): {404: 1},
                        ("POST", "course-list"): {201: 1}}


def test_latency_size_and_database_work_are_recorded(owner_client, flush):
    owner_client.get("/api/courses/")
    flush()
    stats = selectors.totals().requests[("GET", "course-list")]
    assert stats.count == 1 and sum(stats.histogram) == 1 and stats.duration_us > 0
    assert stats.response_bytes > 0
    assert stats.db_queries >= 2  # the user, the courses


def test_a_thousand_random_paths_give_a_bounded_set_of_routes(anon_client, flush):
    for i in range(500):
        anon_client.get(f"/api/uploads/{i + 1}/")
        anon_client.get(f"/{uuid.uuid4().hex}/{i}")
    flush()
    assert set(counts()) == {("GET", "upload-detail"), ("GET", "<unmatched>")}
    assert sum(counts()[("GET", "<unmatched>")].values()) == 500


def test_odd_methods_are_one_label(client, flush):
    client.generic("BREW", "/api/uploads/")
    flush()
    assert list(counts()) == [("OTHER", "upload-list")]


def test_an_unresolved_request_costs_no_query(client, django_assert_num_queries, flush):
    with django_assert_num_queries(0):
        client.get("/nowhere")
    flush()
    assert counts() == {("GET", "<unmatched>"): {404: 1}}


def test_authenticated_users_are_recorded_for_active_user_counts(owner, owner_client, anon_client, flush):
    owner_client.get("/api/courses/")
    owner_client.get("/api/courses/")
    anon_client.get("/api/courses/")
    flush()
    assert selectors.requests_live(minutes=2).users == {owner.id: 2}


@pytest.mark.django_db(transaction=True)  # the view runs in another thread, on its own connection
async def test_the_async_chain_is_measured_too(owner, flush):
    from asgiref.sync import sync_to_async

    token = await sync_to_async(access_token)(owner)
    response = await AsyncClient().get("/api/courses/", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json()
    await sync_to_async(flush)()
    stats = (await sync_to_async(selectors.totals)()).requests[("GET", "course-list")]
    assert stats.statuses == {200: 1}
    assert stats.db_queries >= 2  # queries in the sync view's thread reach the request's counter


def test_while_paused_nothing_is_counted(anon_client, flush):
    recorder().collecting = False
    anon_client.get("/api/uploads/")
    recorder().collecting = True
    flush()
    assert counts() == {}


def test_counts_made_before_a_pause_reached_this_process_are_dropped(anon_client, flush):
    from monitoring import redis_store

    anon_client.get("/api/uploads/")
    redis_store.set_collecting(False, by="another process")
    flush()  # the flush reads the switch first
    assert recorder().collecting is False
    redis_store.set_collecting(True, by="op")
    recorder().refresh_switch()
    assert counts() == {}


def test_a_flush_that_fails_keeps_the_counts_for_the_next_one(anon_client, settings, flush):
    from tecnocursos.lib.redis_urls import RedisUrls
    from tests.cache.conftest import free_port

    anon_client.get("/api/uploads/")
    real = settings.REDIS
    settings.REDIS = RedisUrls.parse(f"redis://127.0.0.1:{free_port()}/0")
    assert recorder().flush() is False
    settings.REDIS = real
    flush()
    assert counts() == {("GET", "upload-list"): {401: 1}}
