"""Redis trouble is a 503 (HTTP) or a 4503 close / an `unavailable` error (WebSocket), never a 500,
and the first request after Redis returns works (stale pooled connections heal). The realtime
clients and the channel layer are pointed at a private redis-server that the tests stop and start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from realtime import services
from realtime.models import ChatMessage, Notification
from tecnocursos.lib.redis_clients import connection_kwargs
from tecnocursos.lib.redis_urls import RedisUrls
from tests.cache.conftest import PrivateRedis
from tests.conftest import api_client_for, open_sockets, receive_type
from tests.realtime.conftest import join

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def realtime_redis(settings) -> Iterator[PrivateRedis]:
    """Presence, progress and the channel layer on a private Redis (the cache stays on the shared one)."""
    server = PrivateRedis()
    shared = (django_settings.REDIS, django_settings.CHANNEL_LAYERS)
    settings.REDIS = RedisUrls.parse(server.url)
    layer = django_settings.CHANNEL_LAYERS["default"]
    host = {"address": server.url, **connection_kwargs(django_settings.REDIS_OPTIONS, asyncio=True)}
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [host]}}}
    yield server
    # Back on the shared Redis before the realtime cleanup fixture runs its teardown.
    settings.REDIS, settings.CHANNEL_LAYERS = shared
    server.stop()


def test_redis_dependent_endpoints_answer_503_and_the_others_200(realtime_redis, staff, owner):
    realtime_redis.stop()
    client = api_client_for(staff)
    for path in ("/ws/stats", "/ws/rooms"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response["Retry-After"] == "5"
        assert "Redis" in response.json()["detail"]
    assert client.get("/api/notifications/").status_code == 200  # the database alone


def test_a_notification_whose_push_fails_is_stored_and_answers_201(realtime_redis, staff, owner):
    realtime_redis.stop()
    client = api_client_for(staff)
    response = client.post("/api/notifications/", {"user": owner.id, "title": "t", "message": "kept"}, format="json")
    assert response.status_code == 201
    assert Notification.objects.filter(user=owner, message="kept").exists()
    response = client.post("/ws/broadcast", {"message": "to all"}, format="json")
    assert response.status_code == 202
    assert Notification.objects.filter(broadcast=True, message="to all").exists()


@pytest.mark.parametrize("path", ["/ws/connect", "/ws/room/lobby", "/ws/monitoring"])
async def test_a_handshake_during_an_outage_closes_with_4503(realtime_redis, staff, path):
    realtime_redis.stop()
    async with open_sockets() as sockets:
        socket, connected, _ = await sockets.open(path, staff)
        assert connected
        closed = await socket.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4503 and "Redis" in closed["reason"]


async def test_sockets_are_closed_with_4503_when_redis_goes_and_the_first_join_after_it_returns_works(
        realtime_redis, owner):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await join(socket, "lobby")
        realtime_redis.stop()
        # The layer lost its pub/sub connection: what is published now is lost, so the client is
        # told to reconnect (and recover with `since`).
        closed = await socket.receive_output(timeout=10)
        assert closed["type"] == "websocket.close" and closed["code"] == 4503
        realtime_redis.start()
        again = await sockets.connect("/ws/connect", owner)
        history = await join(again, "lobby", since=0)
        assert history["recovered"] is True


async def test_monitoring_sockets_are_closed_with_4503_when_redis_goes(realtime_redis, staff):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/monitoring", staff)
        realtime_redis.stop()
        # As the realtime sockets: the dashboard missed what was published and must reconnect.
        closed = await socket.receive_output(timeout=10)
        assert closed["type"] == "websocket.close" and closed["code"] == 4503 and "Redis" in closed["reason"]
    # open_sockets() fails the test if the consumer crashed leaving its group without Redis.


class RefusingLayer:
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise redis.ConnectionError("Redis is down (injected)")


async def test_a_chat_stored_while_the_push_fails_says_so_and_a_retry_is_not_stored_twice(owner, monkeypatch):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await join(socket, "lobby")
        monkeypatch.setattr(services, "_channel_layer", lambda: RefusingLayer())
        frame = {"type": "chat", "room": "lobby", "message": "hello", "client_id": "m-1"}
        await socket.send_json_to(frame)
        error = await receive_type(socket, "error")
        assert error["code"] == "unavailable" and error["stored"] is True and error["client_id"] == "m-1"
        monkeypatch.undo()
        await socket.send_json_to(frame)  # the client retries, as told by `stored`
        again = await receive_type(socket, "chat")
        assert again["duplicate"] is True and again["id"] == error["id"] and again["client_id"] == "m-1"
    assert await sync_to_async(ChatMessage.objects.filter(body="hello").count)() == 1
