from __future__ import annotations

import pytest
from django.test import Client

from realtime import services
from realtime.models import ChatMessage, Notification, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(staff) -> Client:
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def rooms(owner, member) -> dict[str, Room]:
    lobby = services.room_enter(user=owner, name="lobby")
    kitchen = services.room_enter(user=owner, name="kitchen")
    services.chat_post(room_id=lobby.id, user=owner, body="hello from owner")
    services.chat_post(room_id=lobby.id, user=member, body="member in lobby")
    services.chat_post(room_id=kitchen.id, user=member, body="member in kitchen")
    return {"lobby": lobby, "kitchen": kitchen}


def changelist_rows(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_messages_can_be_searched(admin_client_for, rooms):
    rows = changelist_rows(admin_client_for.get("/admin/realtime/chatmessage/", {"q": "kitchen"}))
    assert [m.body for m in rows] == ["member in kitchen"]


def test_messages_can_be_filtered_by_room_and_user(admin_client_for, rooms, member):
    rows = changelist_rows(admin_client_for.get("/admin/realtime/chatmessage/",
                                                {"room__id__exact": rooms["lobby"].id, "user__id__exact": member.id}))
    assert [m.body for m in rows] == ["member in lobby"]


def test_rooms_list_and_clear_history(admin_client_for, rooms):
    rows = changelist_rows(admin_client_for.get("/admin/realtime/room/"))
    assert {r.name: r.kept for r in rows} == {"lobby": 2, "kitchen": 1}
    admin_client_for.post("/admin/realtime/room/", {"action": "clear_history",
                                                    "_selected_action": [rooms["lobby"].id]})
    assert not ChatMessage.objects.filter(room=rooms["lobby"]).exists()
    assert Room.objects.get(id=rooms["lobby"].id).last_message_id == 2  # ids never repeat


def test_rooms_prune_to_the_retention(admin_client_for, rooms, owner, settings):
    settings.REALTIME_CHAT_KEEP = 1
    admin_client_for.post("/admin/realtime/room/", {"action": "prune", "_selected_action": [rooms["lobby"].id]})
    assert list(ChatMessage.objects.filter(room=rooms["lobby"]).values_list("seq", flat=True)) == [2]


def test_notifications_filter_by_read_and_mark_read_or_unread(admin_client_for, owner, member):
    unread = services.notification_send(user=owner, title="unread one", message="m")
    read = services.notification_send(user=member, title="read one", message="m")
    services.notification_mark_read(user=member)
    url = "/admin/realtime/notification/"
    assert [n.id for n in changelist_rows(admin_client_for.get(url, {"read": "no"}))] == [unread.id]
    assert [n.id for n in changelist_rows(admin_client_for.get(url, {"read": "yes"}))] == [read.id]
    assert [n.id for n in changelist_rows(admin_client_for.get(url, {"q": "member"}))] == [read.id]
    admin_client_for.post(url, {"action": "mark_read", "_selected_action": [unread.id]})
    admin_client_for.post(url, {"action": "mark_unread", "_selected_action": [read.id]})
    assert Notification.objects.get(id=unread.id).read_at is not None
    assert Notification.objects.get(id=read.id).read_at is None


def test_push_again_sends_on_commit(admin_client_for, owner, django_capture_on_commit_callbacks):
    notification = services.notification_send(user=owner, title="t", message="m")
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client_for.post("/admin/realtime/notification/", {"action": "push_again",
                                                                "_selected_action": [notification.id]})
    assert len(callbacks) == 1


def test_admin_detail_pages_render(admin_client_for, rooms):
    message = ChatMessage.objects.first()
    notification = services.broadcast_send(message="all")
    for url in (f"/admin/realtime/room/{rooms['lobby'].id}/change/",
                f"/admin/realtime/chatmessage/{message.id}/change/",
                f"/admin/realtime/notification/{notification.id}/change/",
                "/admin/realtime/notification/add/"):
        assert admin_client_for.get(url).status_code == 200
