from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from realtime.services import progress_report
from tests.conftest import api_client_for, open_sockets, receive_type
from tests.realtime.conftest import next_event, silent

pytestmark = pytest.mark.django_db(transaction=True)

report = sync_to_async(progress_report)


async def test_progress_reaches_only_the_jobs_owner(owner, member):
    async with open_sockets() as sockets:
        mine = await sockets.connect("/ws/connect", owner)
        theirs = await sockets.connect("/ws/connect", member)
        await report(user_id=owner.id, task_id="job-1", progress=40, status="processing", message="Reading")
        event = await receive_type(mine, "progress")
        assert {k: event[k] for k in ("task_id", "progress", "status", "message")} == {
            "task_id": "job-1", "progress": 40, "status": "processing", "message": "Reading"}
        assert event["timestamp"]
        assert await silent(theirs)


async def test_progress_is_clamped_to_0_100(owner):
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await report(user_id=owner.id, task_id="j", progress=140, status="done")
        assert (await receive_type(socket, "progress"))["progress"] == 100


async def test_a_client_that_connects_mid_job_asks_for_the_latest_and_sees_the_end(owner):
    await report(user_id=owner.id, task_id="job-7", progress=10, status="processing", message="start")
    await report(user_id=owner.id, task_id="job-7", progress=60, status="processing", message="half")
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await socket.send_json_to({"type": "progress", "task_id": "job-7"})
        latest = await next_event(socket)
        assert latest["type"] == "progress" and latest["progress"] == 60 and latest["message"] == "half"
        await report(user_id=owner.id, task_id="job-7", progress=100, status="done", message="end")
        done = await receive_type(socket, "progress")
        assert done["progress"] == 100 and done["status"] == "done"


async def test_asking_without_task_id_lists_the_users_kept_jobs(owner, member):
    await report(user_id=owner.id, task_id="a", progress=100, status="done")
    await report(user_id=owner.id, task_id="b", progress=30, status="processing")
    await report(user_id=member.id, task_id="c", progress=50, status="processing")
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await socket.send_json_to({"type": "progress"})
        listing = await receive_type(socket, "progress_list")
        assert [(j["task_id"], j["progress"]) for j in listing["jobs"]] == [("a", 100), ("b", 30)]
        assert all(j["type"] == "progress" for j in listing["jobs"])


async def test_a_user_cannot_ask_for_someone_elses_job(owner, member):
    await report(user_id=member.id, task_id="theirs", progress=50, status="processing")
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await socket.send_json_to({"type": "progress", "task_id": "theirs"})
        error = await receive_type(socket, "error")
        assert error["code"] == "not_found" and error["task_id"] == "theirs"


async def test_kept_progress_expires(owner, settings):
    settings.REALTIME_PROGRESS_TTL = 1
    await report(user_id=owner.id, task_id="short", progress=5, status="processing")
    await asyncio.sleep(1.2)
    async with open_sockets() as sockets:
        socket = await sockets.connect("/ws/connect", owner)
        await socket.send_json_to({"type": "progress"})
        assert (await receive_type(socket, "progress_list"))["jobs"] == []
        await socket.send_json_to({"type": "progress", "task_id": "short"})
        assert (await receive_type(socket, "error"))["code"] == "not_found"


async def test_a_celery_uploads_progress_reaches_its_owner_and_nobody_else(celery_worker, owner, member):
    async with open_sockets() as sockets:
        mine = await sockets.connect("/ws/connect", owner)
        theirs = await sockets.connect("/ws/connect", member)
        client = await sync_to_async(api_client_for)(owner)
        upload = SimpleUploadedFile("notes.txt", b"line\n" * 2000, content_type="text/plain")
        response = await sync_to_async(client.post)("/api/uploads/", {"file": upload}, format="multipart")
        assert response.status_code == 201
        task_id = response.json()["task_id"]
        events = []
        while not events or events[-1]["status"] not in ("done", "failed"):
            events.append(await receive_type(mine, "progress", timeout=20))
        assert {e["task_id"] for e in events} == {task_id}
        assert events[0]["progress"] == 0 and events[-1] == {**events[-1], "progress": 100, "status": "done"}
        assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)
        assert await silent(theirs)
        # The finished job is kept for a client that asks afterwards.
        await mine.send_json_to({"type": "progress", "task_id": task_id})
        assert (await receive_type(mine, "progress"))["status"] == "done"
