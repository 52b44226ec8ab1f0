from __future__ import annotations

import pytest

from tests.conftest import open_sockets, receive_type
from tests.realtime.conftest import join

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast_enough(settings):
    settings.REALTIME_RATE_BURST = 100


async def post(communicator, room: str, *texts: str) -> list[int]:
    ids = []
    for text in texts:
        await communicator.send_json_to({"type": "chat", "room": room, "message": text})
        ids.append((await receive_type(communicator, "chat"))["id"])
    return ids


async def test_history_sends_the_last_n_messages_oldest_first(owner, member, settings):
    settings.REALTIME_HISTORY_LENGTH = 3
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        bob = await sockets.connect("/ws/connect", member)
        await join(alice, "lobby")
        await post(alice, "lobby", "m1", "m2", "m3", "m4", "m5")
        history = await join(bob, "lobby")
        assert [m["message"] for m in history["messages"]] == ["m3", "m4", "m5"]
        assert [m["id"] for m in history["messages"]] == [3, 4, 5]
        assert history["recovered"] is True
        first = history["messages"][0]
        assert set(first) == {"type", "id", "room", "message", "user", "timestamp"}
        assert first["type"] == "chat" and first["room"] == "lobby" and first["user"]["id"] == owner.id


async def test_since_recovers_exactly_the_messages_missed(owner, member, settings):
    settings.REALTIME_HISTORY_LENGTH = 2  # recovery is not limited by the history length
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        bob = await sockets.connect("/ws/room/lobby", member)
        await join(alice, "lobby")
        await post(alice, "lobby", "a", "b")
        seen = (await receive_type(bob, "chat"))["id"]
        seen = (await receive_type(bob, "chat"))["id"]
        await bob.disconnect()  # bob goes away having seen up to "b"
        await post(alice, "lobby", "c", "d", "e")
        bob = await sockets.connect("/ws/connect", member)
        history = await join(bob, "lobby", since=seen)
        assert [(m["id"], m["message"]) for m in history["messages"]] == [(3, "c"), (4, "d"), (5, "e")]
        assert history["recovered"] is True


async def test_since_at_the_newest_id_recovers_nothing_missed(owner):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        await join(alice, "lobby")
        ids = await post(alice, "lobby", "a", "b")
        history = await join(alice, "lobby", since=ids[-1])  # a re-join on the same socket also works
        assert history["messages"] == [] and history["recovered"] is True


async def test_since_reports_recovered_false_when_messages_were_pruned(owner, settings):
    settings.REALTIME_CHAT_KEEP = 3
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        await join(alice, "lobby")
        await post(alice, "lobby", *[f"m{i}" for i in range(1, 8)])  # ids 1..7, 1..4 pruned
        pruned = await join(alice, "lobby", since=1)
        assert [m["id"] for m in pruned["messages"]] == [5, 6, 7]
        assert pruned["recovered"] is False
        kept = await join(alice, "lobby", since=4)
        assert [m["id"] for m in kept["messages"]] == [5, 6, 7]
        assert kept["recovered"] is True


async def test_a_bad_since_is_an_error(owner):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        for bad in (-1, "3", True, 1.5):
            await alice.send_json_to({"type": "join_room", "room": "lobby", "since": bad})
            error = await receive_type(alice, "error")
            assert error["code"] == "invalid_field" and error["field"] == "since"
