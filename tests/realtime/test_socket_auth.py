from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import access_token, open_sockets, receive_type
from tests.realtime.conftest import join

pytestmark = pytest.mark.django_db(transaction=True)


def short_token(user, seconds: int) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=seconds))
    return str(token)


@pytest.mark.parametrize("path", ["/ws/connect", "/ws/room/lobby"])
async def test_a_socket_without_a_valid_token_is_closed_4401_before_any_event(path):
    async with open_sockets() as sockets:
        for query in ("", "?token=garbage"):
            communicator, connected, _ = await sockets.open(path + query)
            if connected:
                assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_an_expired_token_closes_a_room_socket_with_4401_and_it_leaves_the_room(owner, member):
    token = await sync_to_async(short_token)(owner, 2)
    async with open_sockets() as sockets:
        short, connected, _ = await sockets.open(f"/ws/room/lobby?token={token}")
        other = await sockets.connect("/ws/connect", member)
        assert connected
        await receive_type(short, "history")
        await join(other, "lobby")
        output = await short.receive_output(timeout=4)
        while output["type"] == "websocket.send":  # the member's join_room first
            output = await short.receive_output(timeout=4)
        assert output == {"type": "websocket.close", "code": 4401}
        await short.disconnect()
        assert (await receive_type(other, "leave_room"))["user"]["id"] == owner.id


async def test_an_expired_token_gets_no_more_events(owner):
    from realtime.services import notification_send

    token = await sync_to_async(short_token)(owner, 1)
    async with open_sockets() as sockets:
        socket, _, _ = await sockets.open(f"/ws/connect?token={token}")
        await receive_type(socket, "connection")
        assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
        await sync_to_async(notification_send)(user=owner, title="t", message="too late")
        assert await socket.receive_nothing(timeout=0.3)


async def test_the_token_as_subprotocol_is_answered_with_access_token_on_a_room_socket(owner):
    token = await sync_to_async(access_token)(owner)
    async with open_sockets() as sockets:
        socket, connected, subprotocol = await sockets.open("/ws/room/lobby", subprotocols=["access_token", token])
        assert connected and subprotocol == "access_token"
        assert (await receive_type(socket, "connection"))["user"] == {"id": owner.id, "username": "owner"}
        assert (await receive_type(socket, "history"))["room"] == "lobby"


@pytest.mark.parametrize("path", ["/ws/connect", "/ws/room/lobby"])
async def test_a_foreign_origin_is_refused(owner, path):
    async with open_sockets() as sockets:
        _, connected, _ = await sockets.open(path, owner, origin="https://evil.example")
        assert not connected


async def test_the_connection_event_has_the_contract_fields(owner):
    async with open_sockets() as sockets:
        socket, _, _ = await sockets.open("/ws/connect", owner)
        event = await receive_type(socket, "connection")
        assert event["user"] == {"id": owner.id, "username": "owner"}
        assert isinstance(event["connection_id"], str) and event["connection_id"]
        assert event["timestamp"].endswith("+00:00")
