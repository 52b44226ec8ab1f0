from __future__ import annotations

import pytest

from realtime.models import ChatMessage
from tests.conftest import open_sockets, receive_type
from tests.realtime.conftest import join, silent

pytestmark = pytest.mark.django_db(transaction=True)


async def test_two_users_in_a_room_both_receive_a_chat_and_a_third_elsewhere_nothing(owner, member, outsider):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        bob = await sockets.connect("/ws/room/lobby", member)
        carol = await sockets.connect("/ws/connect", outsider)
        await receive_type(bob, "history")
        await join(alice, "lobby")
        await join(carol, "kitchen")
        await alice.send_json_to({"type": "chat", "room": "lobby", "message": "olá"})
        for socket in (alice, bob):
            chat = await receive_type(socket, "chat")
            assert chat["room"] == "lobby" and chat["message"] == "olá" and chat["id"] == 1
            assert chat["user"] == {"id": owner.id, "username": "owner"}
            assert chat["timestamp"]
        assert await silent(carol)


async def test_join_room_is_announced_to_every_member_and_the_joiner(owner, member):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/room/lobby", owner)
        await receive_type(alice, "history")
        bob = await sockets.connect("/ws/connect", member)
        await bob.send_json_to({"type": "join_room", "room": "lobby"})
        for socket in (alice, bob):
            joined = await receive_type(socket, "join_room")
            assert joined == {"type": "join_room", "room": "lobby", "user": {"id": member.id, "username": "member"},
                              "timestamp": joined["timestamp"]}
        history = await receive_type(bob, "history")
        assert history["room"] == "lobby" and history["messages"] == [] and history["recovered"] is True


async def test_a_room_socket_chats_without_naming_the_room(owner):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/room/lobby", owner)
        await receive_type(alice, "history")
        await alice.send_json_to({"type": "chat", "message": "hi"})
        assert (await receive_type(alice, "chat"))["room"] == "lobby"


async def test_a_message_is_stored_with_increasing_ids_per_room(owner):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        await join(alice, "a")
        await join(alice, "b")
        for room, text in [("a", "1"), ("a", "2"), ("b", "3")]:
            await alice.send_json_to({"type": "chat", "room": room, "message": text})
            await receive_type(alice, "chat")
    stored = [(m.room.name, m.seq, m.body) async for m in ChatMessage.objects.select_related("room").order_by("id")]
    assert stored == [("a", 1, "1"), ("a", 2, "2"), ("b", 1, "3")]


async def test_leave_room_reaches_members_and_leaver_and_stops_delivery(owner, member):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        bob = await sockets.connect("/ws/connect", member)
        await join(alice, "lobby")
        await join(bob, "lobby")
        await bob.send_json_to({"type": "leave_room", "room": "lobby"})
        for socket in (alice, bob):
            left = await receive_type(socket, "leave_room")
            assert left["room"] == "lobby" and left["user"]["id"] == member.id
        await alice.send_json_to({"type": "chat", "room": "lobby", "message": "still there?"})
        await receive_type(alice, "chat")
        assert await silent(bob)


async def test_a_closing_socket_is_announced_as_leaving(owner, member):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        bob = await sockets.connect("/ws/connect", member)
        await join(alice, "lobby")
        await join(bob, "lobby")
        await receive_type(alice, "join_room")
        await bob.disconnect()
        left = await receive_type(alice, "leave_room")
        assert left["user"]["id"] == member.id
