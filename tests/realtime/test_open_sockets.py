"""The socket helper every WebSocket test relies on: what it promises, proven."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from realtime import presence
from tests.conftest import open_sockets

pytestmark = pytest.mark.django_db(transaction=True)


async def crashes_on_close(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that accepts, then fails while the socket closes."""
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    await receive()
    raise ValueError("crashed while closing")


async def test_a_failing_block_still_disconnects_every_socket_and_reports_its_own_error(owner, member):
    with pytest.raises(RuntimeError, match="the test failed"):
        async with open_sockets() as sockets:
            await sockets.connect("/ws/connect", owner)
            await sockets.connect("/ws/room/lobby", member)
            assert (await sync_to_async(presence.stats)())["connections"] == 2
            raise RuntimeError("the test failed")
    assert (await sync_to_async(presence.stats)())["connections"] == 0


async def test_a_passing_block_still_fails_when_a_socket_crashed_while_closing():
    with pytest.raises(ValueError, match="crashed while closing"):
        async with open_sockets() as sockets:
            connected, _ = await sockets.add(WebsocketCommunicator(crashes_on_close, "/")).connect(timeout=5)
            assert connected
