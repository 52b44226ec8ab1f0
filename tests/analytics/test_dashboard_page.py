from __future__ import annotations

import pytest

from tecnocursos.core.models import Upload

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


def test_a_non_staff_user_is_sent_to_the_login_page(client, owner):
    client.force_login(owner)
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_staff_sees_counts_and_recent_uploads(client, staff, owner):
    Upload.objects.create(owner=owner, original_name="intro.txt", status="failed", file="uploads/x")
    client.force_login(staff)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "intro.txt" in page and "1 failed" in page
    assert 'id="ws-token"' in page  # the live panel authenticates its socket
