from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from realtime import presence
from tecnocursos.core.models import Course
from tests.conftest import api_client_for, open_sockets, receive_type, roundtrip
from tests.realtime.conftest import join

pytestmark = pytest.mark.django_db(transaction=True)


async def get_as(user, url: str):
    client = await sync_to_async(api_client_for)(user)
    response = await sync_to_async(client.get)(url)
    return response.status_code, roundtrip(response.json())


async def test_stats_count_connections_users_and_rooms(owner, member, staff):
    async with open_sockets() as sockets:
        tabs = [await sockets.connect("/ws/connect", owner), await sockets.connect("/ws/room/lobby", owner),
                await sockets.connect("/ws/connect", member)]
        await receive_type(tabs[1], "history")
        await join(tabs[2], "kitchen")
        status, stats = await get_as(staff, "/ws/stats")
        assert status == 200
        assert (stats["connections"], stats["users"], stats["rooms"]) == (3, 2, 2)
        assert stats["servers"] == [{"server": presence.server_id(), "connections": 3}]
    _, stats = await get_as(staff, "/ws/stats")
    assert (stats["connections"], stats["users"], stats["rooms"]) == (0, 0, 0)


async def test_stats_count_messages_in_out_and_errors(owner, staff):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/room/lobby", owner)  # out: connection, join_room, history
        await receive_type(socket, "history")
        await socket.send_json_to({"type": "chat", "message": "hi"})  # in 1, out 1
        await receive_type(socket, "chat")
        await socket.send_json_to({"type": "nope"})  # in 1, out 1 error
        await receive_type(socket, "error")
    # Leaving the block disconnected the socket, which flushes its counters.
    _, stats = await get_as(staff, "/ws/stats")
    assert (stats["messages_in"], stats["messages_out"], stats["errors"]) == (2, 5, 1)
    assert (stats["chat_messages"], stats["connections_total"]) == (1, 1)


async def test_the_heartbeat_keeps_a_connection_and_a_dead_process_leaves_no_ghost(owner, staff, settings):
    settings.REALTIME_PRESENCE_TTL = 1.5  # room for a loaded machine to delay a heartbeat
    settings.REALTIME_PRESENCE_HEARTBEAT = 0.1
    async with open_sockets() as sockets:
        await sockets.connect("/ws/room/lobby", owner)  # a live connection, kept by its heartbeat
        # A connection of a process that died: registered once, never refreshed.
        ghost = presence.Registration(user_id=999, connection_id="ghost", server="dead-1", rooms={"lobby", "haunted"})
        await presence.register(ghost)
        _, stats = await get_as(staff, "/ws/stats")
        assert (stats["connections"], stats["users"], stats["rooms"]) == (2, 2, 2)
        await asyncio.sleep(2.0)  # the ghost expires after the TTL
        _, stats = await get_as(staff, "/ws/stats")
        assert (stats["connections"], stats["users"], stats["rooms"]) == (1, 1, 1)
        _, rooms = await get_as(owner, "/ws/rooms")
        assert rooms == [{"name": "lobby", "members": 1, "connections": 1}]


async def test_rooms_lists_live_rooms_with_distinct_members(owner, member, outsider):
    async with open_sockets() as sockets:
        tabs = [await sockets.connect("/ws/room/lobby", owner), await sockets.connect("/ws/room/lobby", owner),
                await sockets.connect("/ws/room/lobby", member), await sockets.connect("/ws/room/quiet", member)]
        for socket in tabs:
            await receive_type(socket, "history")
        status, rooms = await get_as(outsider, "/ws/rooms")
        assert status == 200
        assert rooms == [{"name": "lobby", "members": 2, "connections": 3},
                         {"name": "quiet", "members": 1, "connections": 1}]
        await tabs[3].send_json_to({"type": "leave_room", "room": "quiet"})
        await receive_type(tabs[3], "leave_room")
        _, rooms = await get_as(outsider, "/ws/rooms")
        assert [r["name"] for r in rooms] == ["lobby"]


async def test_rooms_hides_course_rooms_from_those_who_may_not_enter(owner, outsider, staff):
    course = await Course.objects.acreate(title="Private", owner=owner)
    async with open_sockets() as sockets:
        socket = await sockets.connect(f"/ws/room/course-{course.id}", owner)
        await receive_type(socket, "history")
        assert [r["name"] for r in (await get_as(owner, "/ws/rooms"))[1]] == [f"course-{course.id}"]
        assert [r["name"] for r in (await get_as(staff, "/ws/rooms"))[1]] == [f"course-{course.id}"]
        assert (await get_as(outsider, "/ws/rooms"))[1] == []


def test_stats_is_for_staff_only(anon_client, owner_client, staff_client):
    assert anon_client.get("/ws/stats").status_code == 401
    assert owner_client.get("/ws/stats").status_code == 403
    assert staff_client.get("/ws/stats").status_code == 200


def test_rooms_needs_authentication(anon_client, owner_client):
    assert anon_client.get("/ws/rooms").status_code == 401
    assert owner_client.get("/ws/rooms").json() == []
