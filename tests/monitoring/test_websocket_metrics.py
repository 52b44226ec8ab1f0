"""WebSocket metrics from the ASGI wrapper: closes by code, refusals by reason, errors by code.

Connections and frames are realtime's own counts (what /ws/stats shows), reused, not recounted.
"""

from __future__ import annotations

import pytest

from monitoring import selectors
from tests.conftest import receive_type, ws_connect
from tests.realtime.conftest import clean_realtime_state  # noqa: F401 (autouse: fresh presence per test)

pytestmark = pytest.mark.django_db(transaction=True)


async def events(flush) -> dict:
    from asgiref.sync import sync_to_async

    await sync_to_async(flush)()
    return (await sync_to_async(selectors.websocket_stats)())["events"]


async def test_a_foreign_origin_is_counted_as_refused_by_origin(owner, flush):
    communicator, connected, _ = await ws_connect("/ws/connect", owner, origin="https://evil.example")
    assert not connected
    assert (await events(flush))["refused"] == {"origin": 1}


async def test_a_missing_token_is_counted_as_refused_by_auth_not_as_a_close(flush):
    communicator, connected, _ = await ws_connect("/ws/connect")
    if connected:
        await communicator.receive_output(timeout=2)
    await communicator.disconnect()
    counted = await events(flush)
    assert counted["refused"] == {"auth": 1} and counted["closed"] == {}


async def test_closes_are_counted_by_code_and_errors_by_their_code(owner, flush):
    communicator, connected, _ = await ws_connect("/ws/connect", owner)
    assert connected
    await receive_type(communicator, "connection")
    await communicator.send_to(text_data="{not json")
    assert (await receive_type(communicator, "error"))["code"] == "bad_json"
    await communicator.send_json_to({"type": "nope"})
    await receive_type(communicator, "error")
    await communicator.disconnect(code=4000)
    counted = await events(flush)
    assert counted["error"] == {"bad_json": 1, "unknown_type": 1}
    assert counted["closed"] == {"4000": 1}


async def test_realtime_counts_are_reused_and_events_are_also_kept_per_process(owner, flush):
    from asgiref.sync import sync_to_async

    communicator, connected, _ = await ws_connect("/ws/connect", owner)
    await receive_type(communicator, "connection")
    await communicator.send_json_to({"type": "ping"})
    await receive_type(communicator, "pong")
    stats = await sync_to_async(selectors.websocket_stats)()
    assert stats["connections"] == 1 and stats["messages_in"] >= 0  # realtime's figures, as /ws/stats has them
    await communicator.disconnect(code=1000)
    await sync_to_async(flush)()
    stats = await sync_to_async(selectors.websocket_stats)()
    assert list(stats["events_per_server"].values()) == [stats["events"]]


async def test_while_paused_websocket_events_are_not_counted(owner, flush):
    from monitoring.recorder import recorder

    recorder().collecting = False
    try:
        communicator, connected, _ = await ws_connect("/ws/connect", owner, origin="https://evil.example")
        assert not connected
    finally:
        recorder().collecting = True
    assert (await events(flush))["refused"] == {}
