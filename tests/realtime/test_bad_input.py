from __future__ import annotations

import json

import pytest

from tests.conftest import open_sockets, receive_type
from tests.realtime.conftest import join, send_raw

pytestmark = pytest.mark.django_db(transaction=True)

BAD_FRAMES = [
    ("not json", "bad_json"),
    ("[1, 2]", "bad_frame"),
    ('"just a string"', "bad_frame"),
    ("{}", "missing_field"),
    ('{"type": 7}', "missing_field"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"type": "join_room"}', "missing_field"),
    ('{"type": "leave_room", "room": "nowhere"}', "not_member"),
    ('{"type": "chat", "message": "no room"}', "missing_field"),
    ('{"type": "chat", "room": "lobby"}', "missing_field"),
    ('{"type": "chat", "room": "lobby", "message": ""}', "invalid_field"),
    ('{"type": "chat", "room": "lobby", "message": {"x": 1}}', "invalid_field"),
    ('{"type": "chat", "room": "elsewhere", "message": "hi"}', "not_member"),
    ('{"type": "progress", "task_id": 5}', "invalid_field"),
    # What JSON carries but PostgreSQL and UTF-8 refuse: answered, never a server_error.
    ('{"type": "chat", "room": "lobby", "message": "nul \\u0000 inside"}', "invalid_field"),
    ('{"type": "chat", "room": "lobby", "message": "lone \\ud800 surrogate"}', "invalid_field"),
    ('{"type": "join_room", "room": "lob\\u0000by"}', "invalid_field"),
    ('{"type": "chat", "room": "lobby", "message": "hi", "client_id": "\\udfff"}', "invalid_field"),
    ('{"type": "chat", "room": "lobby", "message": "hi", "client_id": 7}', "invalid_field"),
    ('{"type": "chat", "room": "lobby", "message": "hi", "client_id": "has space"}', "invalid_field"),
    ('{"type": "chat", "room": "lobby", "message": "hi", "client_id": "' + "x" * 65 + '"}', "invalid_field"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(owner, member, frame, code):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        bob = await sockets.connect("/ws/connect", member)
        await join(alice, "lobby")
        await join(bob, "lobby")
        await send_raw(alice, frame)
        error = await receive_type(alice, "error")
        assert error["code"] == code and error["message"] and error["timestamp"]
        assert json.loads(json.dumps(error)) == error
        # The sender still works, and the others are unaffected.
        await alice.send_json_to({"type": "chat", "room": "lobby", "message": "after"})
        assert (await receive_type(alice, "chat"))["message"] == "after"
        assert (await receive_type(bob, "chat"))["message"] == "after"


async def test_a_binary_frame_is_an_error(owner):
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/connect", owner)
        await send_raw(alice, data=b"\x00\x01")
        assert (await receive_type(alice, "error"))["code"] == "bad_frame"
        await alice.send_json_to({"type": "ping"})
        await receive_type(alice, "pong")


async def test_a_too_long_chat_message_is_an_error(owner, settings):
    settings.REALTIME_CHAT_MAX_LENGTH = 10
    async with open_sockets() as sockets:
        alice = await sockets.connect("/ws/room/lobby", owner)
        await receive_type(alice, "history")
        await alice.send_json_to({"type": "chat", "message": "x" * 11})
        error = await receive_type(alice, "error")
        assert error["code"] == "invalid_field" and error["field"] == "message"
