from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tecnocursos.core.models import Course, Upload

pytestmark = pytest.mark.django_db



def outbox_sends(callbacks: list) -> list:
    """The on-commit callbacks that send outbox messages (others, e.g. cache invalidations, may run too)."""
    return [callback for callback in callbacks if "outbox" in callback.__qualname__]

def text_file(name: str = "notes.txt", content: bytes = b"hello world") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def upload(client, **data):
    return client.post("/api/uploads/", {"file": text_file(), **data}, format="multipart")


def test_anonymous_cannot_upload_or_list(anon_client):
    assert upload(anon_client).status_code == 401
    assert anon_client.get("/api/uploads/").status_code == 401


def test_it_stores_an_upload_and_answers_201(owner_client, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(owner_client)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending" and body["task_id"] and body["id"]
    assert body["original_name"] == "notes.txt" and body["size"] == 11
    stored = Upload.objects.get(id=body["id"])
    assert stored.owner == owner
    assert stored.file.read() == b"hello world"
    assert len(outbox_sends(callbacks)) == 1  # processing is queued only once the row is committed


def test_it_rejects_a_missing_file_with_field_error(owner_client):
    response = owner_client.post("/api/uploads/", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_it_rejects_a_disallowed_type(owner_client):
    response = owner_client.post("/api/uploads/", {"file": text_file("evil.exe")}, format="multipart")
    assert response.status_code == 400
    assert ".exe" in response.json()["detail"]
    assert not Upload.objects.exists()


def test_it_rejects_an_oversized_file_with_413(owner_client, settings):
    settings.UPLOAD_MAX_BYTES = 10
    response = owner_client.post("/api/uploads/", {"file": text_file(content=b"x" * 11)}, format="multipart")
    assert response.status_code == 413
    assert response.json()["max_bytes"] == 10
    assert not Upload.objects.exists()


def test_it_refuses_an_oversized_body_before_reading_it(owner_client, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    response = owner_client.post(
        "/api/uploads/", {"file": text_file(content=b"x" * 200_000)}, format="multipart"
    )
    assert response.status_code == 413


def test_it_attaches_an_upload_to_the_owners_course(owner_client, owner):
    course = Course.objects.create(owner=owner, title="Mine")
    response = upload(owner_client, course=course.id)
    assert response.status_code == 201
    assert response.json()["course"] == course.id


def test_it_refuses_a_course_of_someone_else(outsider_client, owner):
    course = Course.objects.create(owner=owner, title="Theirs", is_published=True)
    response = upload(outsider_client, course=course.id)
    assert response.status_code == 403
    assert not Upload.objects.exists()


def test_it_rejects_a_course_that_is_not_a_number(owner_client):
    response = upload(owner_client, course="abc")
    assert response.status_code == 400
    assert "course" in response.json()


def test_users_see_only_their_own_uploads(owner_client, outsider_client):
    upload(owner_client)
    upload(outsider_client)
    mine = owner_client.get("/api/uploads/").json()
    assert mine["count"] == 1
    assert mine["results"][0]["owner"]["username"] == "owner"


def test_staff_sees_all_uploads(owner_client, outsider_client, staff_client):
    upload(owner_client)
    upload(outsider_client)
    assert staff_client.get("/api/uploads/").json()["count"] == 2


def test_someone_elses_upload_is_404(owner_client, outsider_client, staff_client):
    upload_id = upload(owner_client).json()["id"]
    assert outsider_client.get(f"/api/uploads/{upload_id}/").status_code == 404
    assert owner_client.get(f"/api/uploads/{upload_id}/").status_code == 200
    assert staff_client.get(f"/api/uploads/{upload_id}/").status_code == 200


def test_a_bad_upload_id_is_404(owner_client):
    assert owner_client.get("/api/uploads/424242/").status_code == 404


def test_wrong_method_is_405(owner_client):
    assert owner_client.put("/api/uploads/", {}, format="json").status_code == 405
