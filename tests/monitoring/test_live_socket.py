"""/ws/monitoring: staff only, and what the collection and the alerts push to it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async

from monitoring import live
from tests.alerts.conftest import make_rule
from tests.conftest import open_sockets, receive_type, roundtrip

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot(**values):
    from monitoring.models import SystemSnapshot

    return SystemSnapshot.objects.create(timestamp=datetime.now(tz=UTC), host="web-1", **values)


async def test_a_socket_without_a_token_is_closed_with_4401_before_any_event():
    async with open_sockets() as sockets:
        socket, connected, _ = await sockets.open("/ws/monitoring")
        assert connected
        assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_a_user_who_is_not_staff_is_closed_with_4403(outsider):
    async with open_sockets() as sockets:
        socket, connected, _ = await sockets.open("/ws/monitoring", outsider)
        assert connected
        assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}


async def test_staff_get_every_pushed_sample_with_export_names(staff):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/monitoring", staff)
        row = await sync_to_async(snapshot)(cpu_percent=42.5, memory_percent=61.0, disk_percent=70.0)
        await sync_to_async(live.sample_push)(row)  # autocommit: sent at once
        event = await receive_type(socket, "sample")
        assert event["host"] == "web-1" and event["timestamp"].endswith("Z")
        assert event["values"]["cpu.percent"] == 42.5 and event["values"]["memory.percent"] == 61.0
        assert set(event["values"]) >= {"requests.per_s", "latency.p95_ms", "websocket.connections"}


async def test_the_socket_answers_ping_and_refuses_other_frames(staff):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/monitoring", staff)
        await socket.send_to(text_data=json.dumps({"type": "ping"}))
        assert (await receive_type(socket, "pong"))["type"] == "pong"
        await socket.send_to(text_data="{not json")
        assert (await receive_type(socket, "error"))["code"] == "bad_json"
        await socket.send_to(text_data=json.dumps({"type": "chat", "message": "hi"}))
        assert (await receive_type(socket, "error"))["code"] == "unknown_type"


def test_the_collection_task_pushes_its_sample(monkeypatch):
    from monitoring import services, tasks

    row = snapshot(cpu_percent=10.0)
    monkeypatch.setattr(services, "snapshot_collect", lambda: row)
    monkeypatch.setattr(tasks.evaluate_alerts, "delay", lambda: None)
    sent: list[dict] = []
    monkeypatch.setattr(live, "send", lambda payload: sent.append(roundtrip(payload)) or True)
    assert tasks.collect_system() == row.id
    assert [event["type"] for event in sent] == ["sample"]
    assert sent[0]["values"]["cpu.percent"] == 10.0


def test_a_dead_channel_layer_does_not_fail_the_collection(monkeypatch):
    def broken():
        raise ConnectionError("redis is down")

    monkeypatch.setattr(live, "get_channel_layer", broken)
    assert live.send({"type": "sample"}) is False
    live.sample_push(snapshot(cpu_percent=1.0))  # on commit, logged, not raised


def test_alert_transitions_and_acknowledgements_are_pushed(monkeypatch, staff):
    from monitoring.alerting import services
    from tests.alerts.conftest import at, sample

    sent: list[dict] = []
    monkeypatch.setattr(live, "send", lambda payload: sent.append(roundtrip(payload)) or True)
    now = datetime.now(tz=UTC).timestamp()
    rule = make_rule(name="cpu-hot", threshold=50.0, for_seconds=0)
    sample(now, cpu_percent=95.0)
    services.rules_evaluate(now=at(now + 1), rule_ids=[rule.id])
    firing = [event for event in sent if event["type"] == "alert"]
    assert firing and firing[-1]["state"] == "firing" and firing[-1]["rule"] == "cpu-hot"
    assert firing[-1]["acknowledged"] is False

    from monitoring.alerting.models import Alert

    services.alert_acknowledge(alert=Alert.objects.get(id=firing[-1]["id"]), user=staff)
    assert sent[-1]["change"] == "acknowledged" and sent[-1]["acknowledged"] is True


async def test_the_socket_closes_with_4401_when_its_token_expires(staff):
    from datetime import timedelta

    from channels.testing import WebsocketCommunicator
    from rest_framework_simplejwt.tokens import AccessToken

    from tecnocursos.asgi import application

    token = AccessToken.for_user(staff)
    token.set_exp(lifetime=timedelta(seconds=1))
    socket = WebsocketCommunicator(application, "/ws/monitoring", subprotocols=["access_token", str(token)])
    async with open_sockets() as sockets:
        sockets.add(socket)
        connected, subprotocol = await socket.connect(timeout=5)
        assert connected and subprotocol == "access_token"
        assert (await receive_type(socket, "connection"))["user"]["username"] == "staff"
        assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
