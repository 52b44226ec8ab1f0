from __future__ import annotations

import pytest

from tecnocursos.core.models import Course

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(owner):
    return Course.objects.create(owner=owner, title="Draft")


@pytest.fixture
def published(staff):
    return Course.objects.create(owner=staff, title="Published", is_published=True)


def test_anonymous_gets_401(anon_client):
    assert anon_client.get("/api/courses/").status_code == 401
    assert anon_client.post("/api/courses/", {"title": "x"}, format="json").status_code == 401


def test_a_user_creates_a_course_they_own(owner_client, owner):
    response = owner_client.post("/api/courses/", {"title": "Python 101", "description": "intro"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["owner"] == {"id": owner.id, "username": "owner"}
    assert Course.objects.get(id=body["id"]).owner == owner


def test_it_rejects_a_course_without_title(owner_client):
    response = owner_client.post("/api/courses/", {"description": "no title"}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()


def test_a_user_sees_published_and_own_courses_only(outsider_client, draft, published):
    titles = [c["title"] for c in outsider_client.get("/api/courses/").json()["results"]]
    assert titles == ["Published"]


def test_owner_sees_their_draft(owner_client, draft, published):
    titles = {c["title"] for c in owner_client.get("/api/courses/").json()["results"]}
    assert titles == {"Draft", "Published"}


def test_staff_sees_all_courses(staff_client, draft, published):
    assert staff_client.get("/api/courses/").json()["count"] == 2


def test_someone_elses_draft_is_404(outsider_client, draft):
    assert outsider_client.get(f"/api/courses/{draft.id}/").status_code == 404


def test_owner_reads_their_course(owner_client, draft):
    assert owner_client.get(f"/api/courses/{draft.id}/").json()["title"] == "Draft"


def test_bad_id_is_404(owner_client):
    assert owner_client.get("/api/courses/999999/").status_code == 404


def test_wrong_method_is_405(owner_client, draft):
    assert owner_client.delete(f"/api/courses/{draft.id}/").status_code == 405
