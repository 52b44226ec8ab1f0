"""Each list endpoint costs a pinned number of queries, the same for 1 row as for 7: a query added
to a page, or one added per row (an N+1), fails here and lists the SQL."""

from __future__ import annotations

import pytest

from realtime.services import notification_send
from tecnocursos.core.models import Course, Upload
from tests.conftest import assert_database_query_count

pytestmark = pytest.mark.django_db

# Per page: the JWT's user, the page's count, the page's rows (owner and course joined in).
QUERIES = {
    "/api/uploads/": 3,
    "/api/courses/": 3,
    "/api/notifications/": 3,
}


def add_rows(owner, n: int) -> None:
    """n of each listed kind, every one with its relations set (an unjoined relation costs a query per row)."""
    for i in range(n):
        course = Course.objects.create(owner=owner, title=f"c{i}", is_published=True)
        Upload.objects.create(owner=owner, course=course, original_name=f"f{i}.txt", file=f"uploads/{i}")
        notification_send(user=owner, title=f"t{i}", message="m", sender=owner)


@pytest.mark.parametrize("rows", [1, 7])
@pytest.mark.parametrize(("path", "queries"), QUERIES.items())
def test_a_list_page_costs_the_same_pinned_queries_for_any_number_of_rows(staff_client, staff, path, queries, rows):
    add_rows(staff, rows)
    with assert_database_query_count(queries):
        response = staff_client.get(path)
    assert response.status_code == 200
    assert response.json()["count"] == rows  # the rows were listed, not filtered away
