from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from realtime.models import Notification
from tests.conftest import api_client_for, open_sockets, receive_type, roundtrip

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/ws/broadcast"


async def post_as(user, body: dict):
    client = await sync_to_async(api_client_for)(user)
    return await sync_to_async(client.post)(URL, body, format="json")


async def test_a_broadcast_reaches_every_connected_user_once_through_the_layer(owner, member, outsider, staff,
                                                                                monkeypatch):
    async with open_sockets() as sockets:
        everyone = [await sockets.connect("/ws/connect", owner), await sockets.connect("/ws/room/lobby", member),
                    await sockets.connect("/ws/connect", outsider), await sockets.connect("/ws/connect", staff)]
        layer = get_channel_layer()
        sends: list[str] = []
        original = layer.group_send

        async def counting_group_send(group: str, message: dict) -> None:
            if message.get("event", {}).get("type") == "notification":
                sends.append(group)
            await original(group, message)

        monkeypatch.setattr(layer, "group_send", counting_group_send)
        response = await post_as(staff, {"message": "Deploy at 18:00", "title": "Heads up", "level": "warning"})
        assert response.status_code == 202
        body = roundtrip(response.json())
        assert body["broadcast"] is True and body["message"] == "Deploy at 18:00"
        for socket in everyone:
            event = await receive_type(socket, "notification")
            assert {k: event[k] for k in ("id", "title", "message", "level", "broadcast")} == {
                "id": body["id"], "title": "Heads up", "message": "Deploy at 18:00", "level": "warning",
                "broadcast": True}
        assert sends == ["broadcast"]  # one group message, not one per user


def test_a_broadcast_needs_only_a_message(staff_client):
    response = staff_client.post(URL, {"message": "hello"}, format="json")
    assert response.status_code == 202
    stored = Notification.objects.get(id=response.json()["id"])
    assert stored.broadcast and stored.user is None and stored.level == "info" and stored.sender.username == "staff"


def test_a_broadcast_is_not_in_anyones_inbox(staff_client, owner_client):
    staff_client.post(URL, {"message": "hello"}, format="json")
    assert owner_client.get("/api/notifications/").json()["count"] == 0


def test_anonymous_gets_401_and_a_user_403(anon_client, owner_client):
    assert anon_client.post(URL, {"message": "x"}, format="json").status_code == 401
    assert owner_client.post(URL, {"message": "x"}, format="json").status_code == 403
    assert not Notification.objects.exists()


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": "x", "level": "loud"}, {"message": ["x"]}])
def test_bad_broadcast_input_gets_400(staff_client, body):
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 400 and "detail" in response.json()


def test_get_is_not_allowed(staff_client):
    assert staff_client.get(URL).status_code == 405
