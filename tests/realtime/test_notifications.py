from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from realtime.models import Notification
from realtime.services import notification_send
from tests.conftest import api_client_for, open_sockets, receive_type, roundtrip
from tests.realtime.conftest import silent

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/notifications/"


async def test_a_notification_reaches_every_socket_of_its_user_and_nobody_else(owner, member):
    async with open_sockets() as sockets:
        tab1 = await sockets.connect("/ws/connect", owner)
        tab2 = await sockets.connect("/ws/room/lobby", owner)
        other = await sockets.connect("/ws/connect", member)
        sent = await sync_to_async(notification_send)(user=owner, title="Hi", message="Welcome", level="success")
        for socket in (tab1, tab2):
            event = await receive_type(socket, "notification")
            assert {k: event[k] for k in ("id", "title", "message", "level", "broadcast")} == {
                "id": sent.id, "title": "Hi", "message": "Welcome", "level": "success", "broadcast": False}
            assert event["timestamp"]
        assert await silent(other)


async def test_a_notification_is_sent_only_when_its_transaction_commits(owner):
    def rolled_back() -> None:
        with transaction.atomic():
            notification_send(user=owner, title="x", message="never")
            transaction.set_rollback(True)

    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await sync_to_async(rolled_back)()
        assert await silent(socket)
        assert not await Notification.objects.filter(message="never").aexists()


def test_an_offline_user_finds_the_notification_later(owner):
    notification_send(user=owner, title="While you were away", message="Backup done", level="info")
    body = roundtrip(api_client_for(owner).get(URL).json())
    assert body["count"] == 1
    item = body["results"][0]
    assert item["title"] == "While you were away" and item["read"] is False and item["broadcast"] is False


def test_the_list_is_the_callers_own_newest_first(owner, member):
    first = notification_send(user=owner, title="1", message="first")
    second = notification_send(user=owner, title="2", message="second")
    notification_send(user=member, title="secret", message="for member")
    body = api_client_for(owner).get(URL).json()
    assert [n["id"] for n in body["results"]] == [second.id, first.id]
    assert [n["title"] for n in api_client_for(member).get(URL).json()["results"]] == ["secret"]


def test_the_list_filters_unread_and_rejects_a_bad_filter(owner):
    notification_send(user=owner, title="a", message="a")
    read = notification_send(user=owner, title="b", message="b")
    client = api_client_for(owner)
    client.post(f"{URL}{read.id}/read/")
    assert [n["title"] for n in client.get(URL, {"unread": "true"}).json()["results"]] == ["a"]
    assert [n["title"] for n in client.get(URL, {"unread": "false"}).json()["results"]] == ["b"]
    response = client.get(URL, {"unread": "maybe"})
    assert response.status_code == 400 and "detail" in response.json()


def test_anonymous_gets_401(anon_client):
    assert anon_client.get(URL).status_code == 401
    assert anon_client.post(URL, {"user": 1, "title": "t", "message": "m"}, format="json").status_code == 401


def test_only_staff_may_send(owner_client, member):
    response = owner_client.post(URL, {"user": member.id, "title": "t", "message": "m"}, format="json")
    assert response.status_code == 403
    assert not Notification.objects.exists()


def test_staff_sends_a_notification_that_is_kept(staff_client, member):
    response = staff_client.post(URL, {"user": member.id, "title": "Maintenance", "message": "Tonight",
                                       "level": "warning"}, format="json")
    assert response.status_code == 201
    body = roundtrip(response.json())
    assert body["title"] == "Maintenance" and body["level"] == "warning" and body["read"] is False
    stored = Notification.objects.get(id=body["id"])
    assert stored.user == member and stored.sender.username == "staff"


async def test_a_notification_posted_over_http_is_pushed_live(staff, member):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", member)
        client = await sync_to_async(api_client_for)(staff)
        response = await sync_to_async(client.post)(URL, {"user": member.id, "title": "Live", "message": "now"},
                                                    format="json")
        assert response.status_code == 201
        assert (await receive_type(socket, "notification"))["id"] == response.json()["id"]


def test_a_notification_to_an_unknown_or_inactive_user_is_404(staff_client, member):
    member.is_active = False
    member.save()
    for user_id in (999999, member.id):
        response = staff_client.post(URL, {"user": user_id, "title": "t", "message": "m"}, format="json")
        assert response.status_code == 404 and response.json() == {"detail": "User not found."}


@pytest.mark.parametrize("body", [
    {"title": "t", "message": "m"},
    {"user": "abc", "title": "t", "message": "m"},
    {"user": "SELF", "title": "t", "message": "m", "level": "panic"},
    {"user": "SELF", "message": "m"},
])
def test_staff_sending_bad_input_gets_400(staff_client, member, body):
    body = {k: (member.id if v == "SELF" else v) for k, v in body.items()}
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 400 and "detail" in response.json()


def test_a_user_marks_one_notification_read(owner):
    notification = notification_send(user=owner, title="t", message="m")
    response = api_client_for(owner).post(f"{URL}{notification.id}/read/")
    assert response.status_code == 200 and response.json()["read"] is True
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_user_cannot_mark_someone_elses_notification(owner, member):
    notification = notification_send(user=member, title="t", message="m")
    assert api_client_for(owner).post(f"{URL}{notification.id}/read/").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_user_marks_all_or_some_read(owner, member):
    a, b, c = (notification_send(user=owner, title=t, message=t) for t in "abc")
    theirs = notification_send(user=member, title="x", message="x")
    client = api_client_for(owner)
    assert client.post(f"{URL}read/", {"ids": [a.id, theirs.id]}, format="json").json() == {"updated": 1}
    assert client.post(f"{URL}read/", {}, format="json").json() == {"updated": 2}
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()
    assert Notification.objects.get(id=theirs.id).read_at is None
    assert client.post(f"{URL}read/", {"ids": "nope"}, format="json").status_code == 400


async def test_the_connection_event_counts_unread_notifications(owner):
    await sync_to_async(notification_send)(user=owner, title="t", message="waiting")
    async with open_sockets() as sockets:
        socket, _, _ = await sockets.open("/ws/connect", owner)
        assert (await receive_type(socket, "connection"))["unread_notifications"] == 1
