"""Realtime fixtures: clean realtime Redis state per test, and helpers that speak the socket protocol
(sockets are opened with `tests.conftest.open_sockets`)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from tests.conftest import receive_type, roundtrip


def _delete_realtime_keys() -> None:
    from realtime.redis_client import key, sync_client

    client = sync_client()
    # Only this run's prefix (REDIS_PREFIX): other runs and databases are left alone.
    batch = list(client.scan_iter(match=key("*"), count=500))
    if batch:
        client.delete(*batch)


@pytest.fixture(autouse=True)
def clean_realtime_state() -> Any:
    _delete_realtime_keys()
    yield
    _delete_realtime_keys()


@pytest.fixture(autouse=True)
async def _close_async_redis() -> Any:
    yield
    from realtime.redis_client import close_async_client

    await close_async_client()


async def join(communicator: WebsocketCommunicator, room: str, **fields: Any) -> dict[str, Any]:
    """Join `room`; returns the `history` event."""
    await communicator.send_json_to({"type": "join_room", "room": room, **fields})
    await receive_type(communicator, "join_room")
    return await receive_type(communicator, "history")


async def next_event(communicator: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    return roundtrip(await communicator.receive_json_from(timeout=timeout))


async def silent(communicator: WebsocketCommunicator, timeout: float = 0.3) -> bool:
    """True when nothing arrives within `timeout`."""
    return await communicator.receive_nothing(timeout=timeout)


async def send_raw(communicator: WebsocketCommunicator, text: str | None = None, data: bytes | None = None) -> None:
    if text is not None:
        await communicator.send_to(text_data=text)
    else:
        await communicator.send_to(bytes_data=data)
