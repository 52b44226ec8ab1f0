from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import access_token, receive_type, ws_connect
from tests.realtime.conftest import connect, disconnect_all, join

pytestmark = pytest.mark.django_db(transaction=True)


def short_token(user, seconds: int) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=seconds))
    return str(token)


@pytest.mark.parametrize("path", ["/ws/connect", "/ws/room/lobby"])
async def test_a_socket_without_a_valid_token_is_closed_4401_before_any_event(path):
    for query in ("", "?token=garbage"):
        communicator, connected, _ = await ws_connect(path + query)
        if connected:
            assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
        await communicator.disconnect()


async def test_an_expired_token_closes_a_room_socket_with_4401_and_it_leaves_the_room(owner, member):
    token = await sync_to_async(short_token)(owner, 2)
    short, connected, _ = await ws_connect(f"/ws/room/lobby?token={token}")
    other = await connect("/ws/connect", member)
    try:
        assert connected
        await receive_type(short, "history")
        await join(other, "lobby")
        output = await short.receive_output(timeout=4)
        while output["type"] == "websocket.send":  # the member's join_room first
            output = await short.receive_output(timeout=4)
        assert output == {"type": "websocket.close", "code": 4401}
        await short.disconnect()
        assert (await receive_type(other, "leave_room"))["user"]["id"] == owner.id
    finally:
        await disconnect_all(short, other)


async def test_an_expired_token_gets_no_more_events(owner):
    from realtime.services import notification_send

    token = await sync_to_async(short_token)(owner, 1)
    socket, _, _ = await ws_connect(f"/ws/connect?token={token}")
    try:
        await receive_type(socket, "connection")
        assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
        await sync_to_async(notification_send)(user=owner, title="t", message="too late")
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()


async def test_the_token_as_subprotocol_is_answered_with_access_token_on_a_room_socket(owner):
    token = await sync_to_async(access_token)(owner)
    socket, connected, subprotocol = await ws_connect("/ws/room/lobby", subprotocols=["access_token", token])
    try:
        assert connected and subprotocol == "access_token"
        assert (await receive_type(socket, "connection"))["user"] == {"id": owner.id, "username": "owner"}
        assert (await receive_type(socket, "history"))["room"] == "lobby"
    finally:
        await socket.disconnect()


@pytest.mark.parametrize("path", ["/ws/connect", "/ws/room/lobby"])
async def test_a_foreign_origin_is_refused(owner, path):
    socket, connected, _ = await ws_connect(path, owner, origin="https://evil.example")
    assert not connected
    await socket.disconnect()


async def test_the_connection_event_has_the_contract_fields(owner):
    socket, _, _ = await ws_connect("/ws/connect", owner)
    try:
        event = await receive_type(socket, "connection")
        assert event["user"] == {"id": owner.id, "username": "owner"}
        assert isinstance(event["connection_id"], str) and event["connection_id"]
        assert event["timestamp"].endswith("+00:00")
    finally:
        await socket.disconnect()
