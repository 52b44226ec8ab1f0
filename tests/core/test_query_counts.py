"""List endpoints cost the same number of queries for 1 row as for many (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tecnocursos.core.models import Course, Upload

pytestmark = pytest.mark.django_db


def queries_for(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def add_rows(owner, n: int) -> None:
    for i in range(n):
        course = Course.objects.create(owner=owner, title=f"c{i}", is_published=True)
        Upload.objects.create(owner=owner, course=course, original_name=f"f{i}.txt", file=f"uploads/{i}")


@pytest.mark.parametrize("path", ["/api/uploads/", "/api/courses/", "/api/notifications/"])
def test_list_endpoints_do_not_query_per_row(staff_client, staff, path):
    from realtime.services import notification_send

    add_rows(staff, 1)
    notification_send(user=staff, title="t", message="m")
    one = queries_for(staff_client, path)
    add_rows(staff, 6)
    for _ in range(6):
        notification_send(user=staff, title="t", message="m")
    assert queries_for(staff_client, path) == one
