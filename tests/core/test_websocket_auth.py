from __future__ import annotations

import pytest

from tests.conftest import open_sockets, receive_type

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_sends_connection_event_with_user(owner):
    async with open_sockets() as sockets:
        communicator, connected, _ = await sockets.open("/ws/connect", owner)
        assert connected
        event = await receive_type(communicator, "connection")
        assert event["user"] == {"id": owner.id, "username": "owner"}
        assert event["connection_id"] and event["timestamp"]


async def test_it_answers_ping_with_pong(owner):
    async with open_sockets() as sockets:
        communicator = await sockets.connect("/ws/connect", owner)
        await communicator.send_json_to({"type": "ping"})
        assert (await receive_type(communicator, "pong"))["type"] == "pong"


async def test_it_closes_a_socket_without_token_with_4401():
    async with open_sockets() as sockets:
        communicator, connected, _ = await sockets.open("/ws/connect")
        if connected:
            assert (await communicator.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4401}


async def test_it_closes_a_socket_with_a_bad_token_with_4401():
    async with open_sockets() as sockets:
        communicator, connected, _ = await sockets.open("/ws/connect?token=garbage")
        if connected:
            assert (await communicator.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4401}


async def test_it_accepts_the_token_as_subprotocol_and_answers_access_token(owner):
    from asgiref.sync import sync_to_async

    from tests.conftest import access_token

    token = await sync_to_async(access_token)(owner)
    async with open_sockets() as sockets:
        communicator, connected, subprotocol = await sockets.open("/ws/connect", subprotocols=["access_token", token])
        assert connected and subprotocol == "access_token"
        assert (await receive_type(communicator, "connection"))["user"]["id"] == owner.id


async def test_it_refuses_a_foreign_origin(owner):
    async with open_sockets() as sockets:
        _, connected, _ = await sockets.open("/ws/connect", owner, origin="https://evil.example")
        assert not connected


async def test_it_accepts_its_own_origin(owner):
    async with open_sockets() as sockets:
        _, connected, _ = await sockets.open("/ws/connect", owner, origin="http://localhost")
        assert connected


async def test_it_closes_the_socket_when_the_token_expires(owner):
    from datetime import timedelta

    from asgiref.sync import sync_to_async
    from rest_framework_simplejwt.tokens import AccessToken

    def short_token() -> str:
        token = AccessToken.for_user(owner)
        token.set_exp(lifetime=timedelta(seconds=1))
        return str(token)

    async with open_sockets() as sockets:
        communicator, connected, _ = await sockets.open(f"/ws/connect?token={await sync_to_async(short_token)()}")
        assert connected
        await receive_type(communicator, "connection")
        assert (await communicator.receive_output(timeout=4)) == {"type": "websocket.close", "code": 4401}
