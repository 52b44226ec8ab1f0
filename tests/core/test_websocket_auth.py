from __future__ import annotations

import pytest

from tests.conftest import receive_type, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_sends_connection_event_with_user(owner):
    communicator, connected, _ = await ws_connect("/ws/connect", owner)
    assert connected
    event = await receive_type(communicator, "connection")
    assert event["user"] == {"id": owner.id, "username": "owner"}
    assert event["connection_id"] and event["timestamp"]
    await communicator.disconnect()


async def test_it_answers_ping_with_pong(owner):
    communicator, _, _ = await ws_connect("/ws/connect", owner)
    await receive_type(communicator, "connection")
    await communicator.send_json_to({"type": "ping"})
    assert (await receive_type(communicator, "pong"))["type"] == "pong"
    await communicator.disconnect()
