"""A Celery task's events reach the owner's WebSocket through the real Redis layer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from tecnocursos.core.models import Upload
from tests.conftest import api_client_for, open_sockets, receive_type


def post_upload(user) -> dict:
    file = SimpleUploadedFile("lesson.md", b"# Lesson\n\nText", content_type="text/markdown")
    response = api_client_for(user).post("/api/uploads/", {"file": file}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
async def test_upload_processing_pushes_progress_to_the_owner_only(celery_worker, owner, outsider):
    async with open_sockets() as sockets:
        mine = await sockets.connect("/ws/connect", owner)
        theirs = await sockets.connect("/ws/connect", outsider)

        created = await sync_to_async(post_upload)(owner)

        events = []
        while not events or events[-1]["status"] not in ("done", "failed"):
            events.append(await receive_type(mine, "progress", timeout=15))
        assert {e["task_id"] for e in events} == {created["task_id"]}
        assert events[0]["progress"] == 0 and events[-1] == {**events[-1], "progress": 100, "status": "done"}
        assert all(set(e) >= {"task_id", "progress", "status", "message", "timestamp"} for e in events)
        upload = await Upload.objects.aget(id=created["id"])
        assert upload.status == "done" and upload.extracted_text.startswith("# Lesson")
        assert await theirs.receive_nothing(timeout=0.5)
