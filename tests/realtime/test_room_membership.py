from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from tecnocursos.core.models import Course, Enrollment
from tests.conftest import open_sockets, receive_type
from tests.realtime.conftest import join, silent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def course(owner, member):
    course = Course.objects.create(title="Django", owner=owner)
    Enrollment.objects.create(course=course, user=member)
    return course


@pytest.mark.parametrize("who", ["owner", "member", "staff"])
async def test_a_course_room_admits_owner_enrolled_and_staff(course, owner, member, staff, who):
    user = {"owner": owner, "member": member, "staff": staff}[who]
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", user)
        history = await join(socket, f"course-{course.id}")
        assert history["room"] == f"course-{course.id}"


async def test_a_course_room_refuses_an_outsider_and_the_socket_stays_open(course, outsider):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", outsider)
        await socket.send_json_to({"type": "join_room", "room": f"course-{course.id}"})
        error = await receive_type(socket, "error")
        assert error["code"] == "forbidden" and error["room"] == f"course-{course.id}"
        await socket.send_json_to({"type": "chat", "room": f"course-{course.id}", "message": "let me in"})
        assert (await receive_type(socket, "error"))["code"] == "not_member"
        await socket.send_json_to({"type": "ping"})
        await receive_type(socket, "pong")


async def test_a_room_socket_for_a_forbidden_course_gets_an_error_not_the_room(course, outsider):
    async with open_sockets() as sockets:
        socket = await sockets.connect(f"/ws/room/course-{course.id}", outsider)
        assert (await receive_type(socket, "error"))["code"] == "forbidden"
        await socket.send_json_to({"type": "chat", "message": "hello?"})
        assert (await receive_type(socket, "error"))["code"] == "not_member"


@pytest.mark.parametrize("room", ["course-999999", "course-abc", "course-"])
async def test_the_course_prefix_is_reserved_even_without_a_course(owner, room):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await socket.send_json_to({"type": "join_room", "room": room})
        assert (await receive_type(socket, "error"))["code"] == "forbidden"


async def test_enrolling_a_user_admits_them_to_the_course_room(course, outsider):
    await sync_to_async(Enrollment.objects.create)(course=course, user=outsider)
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", outsider)
        assert (await join(socket, f"course-{course.id}"))["recovered"] is True


@pytest.mark.parametrize("room", ["has space", "sla/sh", "x" * 101, "", "ünï", 42, None])
async def test_an_invalid_room_name_is_an_error(owner, room):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await socket.send_json_to({"type": "join_room", "room": room})
        error = await receive_type(socket, "error")
        assert error["code"] == ("missing_field" if room is None else "invalid_room")
        assert await silent(socket, 0.1)


async def test_a_room_name_of_100_characters_works(owner):
    name = "r." + "x" * 98
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await join(socket, name)
        await socket.send_json_to({"type": "chat", "room": name, "message": "long"})
        assert (await receive_type(socket, "chat"))["room"] == name


async def test_an_invalid_room_path_gets_an_error(owner):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/room/bad%20name", owner)
        assert (await receive_type(socket, "error"))["code"] == "invalid_room"


async def test_max_rooms_per_connection(owner, settings):
    settings.REALTIME_MAX_ROOMS = 2
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await join(socket, "one")
        await join(socket, "two")
        await socket.send_json_to({"type": "join_room", "room": "three"})
        error = await receive_type(socket, "error")
        assert error["code"] == "too_many_rooms" and error["room"] == "three"
        await join(socket, "two")  # re-joining a joined room is not a new room
        await socket.send_json_to({"type": "leave_room", "room": "one"})
        await receive_type(socket, "leave_room")
        await join(socket, "three")


def room_lookups(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT") and '"realtime_room"."name" =' in q["sql"]]


def test_entering_a_new_room_looks_its_name_up_once(owner, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from realtime import services

    with CaptureQueriesContext(connection) as queries:
        created = services.room_enter(user=owner, name="fresh")
    assert created.created_by == owner and len(room_lookups(queries)) == 1
    with CaptureQueriesContext(connection) as queries:
        assert services.room_enter(user=member, name="fresh") == created
    assert len(room_lookups(queries)) == 1


def test_a_room_created_meanwhile_by_someone_else_is_entered_not_created_twice(owner, member, monkeypatch):
    from django.db.models import QuerySet

    from realtime import services
    from realtime.models import Room

    theirs = Room.objects.create(name="race", created_by=member)
    monkeypatch.setattr(QuerySet, "first", lambda self: None)  # the lookup ran before they created it
    assert services.room_enter(user=owner, name="race") == theirs
    assert Room.objects.get(name="race").created_by == member
