"""Limits one user cannot get around: sockets per user, rooms created per user, sockets of a
deactivated or deleted user; and chat retries that must not post twice."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db.backends.utils import CursorWrapper

from realtime.models import ChatMessage, Room
from tests.conftest import open_sockets, receive_type
from tests.realtime.conftest import join, next_event, silent

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_user_over_the_socket_cap_is_closed_with_4409_and_others_are_not(owner, member, settings):
    settings.REALTIME_MAX_SOCKETS_PER_USER = 3
    async with open_sockets() as sockets:
        for _ in range(3):
            await sockets.connect("/ws/connect", owner)
        extra, connected, _ = await sockets.open("/ws/connect", owner)
        assert connected
        closed = await extra.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4409 and "3" in closed["reason"]
        await sockets.connect("/ws/connect", member)  # the cap is per user
        await extra.disconnect()
    async with open_sockets() as sockets:  # closed sockets free their places
        for _ in range(3):
            await sockets.connect("/ws/connect", owner)


async def test_a_user_creates_only_so_many_public_rooms_but_joins_existing_ones(owner, member, staff, settings):
    settings.REALTIME_ROOMS_PER_USER = 2
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        await join(alice, "one")
        await join(alice, "two")
        await alice.send_json_to({"type": "join_room", "room": "three"})
        error = await receive_type(alice, "error")
        assert error["code"] == "room_limit" and error["room"] == "three"
        bob = await sockets.connect("/ws/connect", member)
        await join(bob, "three")  # bob has created none yet
        await join(alice, "three")  # existing rooms stay open to everyone
        admin = await sockets.connect("/ws/connect", staff)
        for n in range(3):
            await join(admin, f"staff-{n}")
    assert await sync_to_async(Room.objects.filter(created_by=owner).count)() == 2


async def test_a_deactivated_user_is_disconnected_with_4401_at_once(owner, member):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        bob = await sockets.connect("/ws/connect", member)

        def deactivate() -> None:
            owner.is_active = False
            owner.save(update_fields=["is_active"])

        await sync_to_async(deactivate)()
        closed = await alice.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4401
        assert await silent(bob)


async def test_a_deleted_user_is_disconnected(owner):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        await sync_to_async(owner.delete)()
        closed = await alice.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4401


async def test_a_user_deactivated_without_signals_is_disconnected_by_the_heartbeat(owner, settings):
    settings.REALTIME_PRESENCE_HEARTBEAT = 0.1
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        await sync_to_async(get_user_model().objects.filter(pk=owner.pk).update)(is_active=False)  # no signal
        closed = await alice.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4401


async def test_the_sockets_of_one_process_cost_one_active_user_query_per_heartbeat_not_one_each(
        owner, member, outsider, staff, settings, monkeypatch):
    settings.REALTIME_PRESENCE_HEARTBEAT = 0.2
    users = [owner, member, outsider, staff]
    checks: list[tuple[str, tuple]] = []
    execute = CursorWrapper.execute

    def recording(self, sql, params=None):
        if '"auth_user"."is_active"' in sql.split("WHERE", 1)[-1]:
            checks.append((sql, tuple(params or ())))
        return execute(self, sql, params)

    async with open_sockets() as sockets:
        for user in users:
            await sockets.connect("/ws/connect", user)
        # Patched on the class: the consumers query from a thread of their own.
        monkeypatch.setattr(CursorWrapper, "execute", recording)
        await asyncio.sleep(1.0)  # five intervals
        monkeypatch.undo()
    assert 1 <= len(checks) <= 6, checks  # one per interval; a query per socket ran about 20
    assert all(set(params) >= {user.pk for user in users} for _, params in checks)


async def test_a_retried_chat_frame_returns_the_stored_message_to_the_sender_only(owner, member):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        bob = await sockets.connect("/ws/connect", member)
        await join(alice, "lobby")
        await join(bob, "lobby")
        await receive_type(alice, "join_room")  # bob's arrival
        frame = {"type": "chat", "room": "lobby", "message": "once", "client_id": "c-42"}
        await alice.send_json_to(frame)
        first = await receive_type(alice, "chat")
        assert first["client_id"] == "c-42" and "duplicate" not in first
        assert (await receive_type(bob, "chat"))["id"] == first["id"]

        await alice.send_json_to(frame)
        again = await next_event(alice)
        assert again["type"] == "chat" and again["duplicate"] is True
        assert {k: again[k] for k in ("id", "message", "client_id", "timestamp")} == {
            k: first[k] for k in ("id", "message", "client_id", "timestamp")}
        assert await silent(bob)  # no second broadcast

        await alice.send_json_to({**frame, "message": "other"})  # same id, same answer
        assert (await receive_type(alice, "chat"))["id"] == first["id"]
        await alice.send_json_to({**frame, "client_id": "c-43"})  # a new id is a new message
        assert (await receive_type(alice, "chat"))["id"] == first["id"] + 1
    assert await sync_to_async(ChatMessage.objects.filter(client_id="c-42").count)() == 1


def test_a_chat_retry_is_refused_by_the_insert_itself_and_leaves_no_gap_in_the_ids(owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from realtime import services

    room = Room.objects.create(name="lobby")
    with CaptureQueriesContext(connection) as queries:
        first = services.chat_send(room_id=room.id, user=owner, body="once", client_id="c-1")
    # No SELECT of the room's messages before the insert: the unique constraint is the check.
    assert not [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "realtime_chatmessage" in q["sql"]]
    again = services.chat_send(room_id=room.id, user=owner, body="again", client_id="c-1")
    assert again.duplicate and again.message.pk == first.message.pk and again.message.body == "once"
    # The refused retry gave its id back: the next message follows the first without a gap.
    assert services.chat_send(room_id=room.id, user=owner, body="next", client_id="c-2").message.seq == 2
    room.refresh_from_db()
    assert room.last_message_id == 2
    assert ChatMessage.objects.filter(room=room, client_id="c-1").count() == 1
