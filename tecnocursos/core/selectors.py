"""Reads on content, always scoped to what the caller may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tecnocursos.core.exceptions import NotFound
from tecnocursos.core.models import Course, Upload
from tecnocursos.core.types import User


def upload_list(*, user: User) -> QuerySet[Upload]:
    qs = Upload.objects.select_related("owner", "course").defer("extracted_text")
    return qs if user.is_staff else qs.filter(owner=user)


def upload_get(*, user: User, upload_id: int) -> Upload:
    # Someone else's upload is a 404, not a 403: its existence is not disclosed.
    upload = Upload.objects.select_related("owner", "course").filter(id=upload_id).first()
    if upload is None or not (user.is_staff or upload.owner_id == user.pk):
        raise NotFound("Upload not found.")
    return upload


def course_list(*, user: User) -> QuerySet[Course]:
    qs = Course.objects.select_related("owner")
    return qs if user.is_staff else qs.filter(Q(is_published=True) | Q(owner=user))


def course_get(*, user: User, course_id: int) -> Course:
    course = course_list(user=user).filter(id=course_id).first()
    if course is None:
        raise NotFound("Course not found.")
    return course


def course_member(*, user: User, course_id: int) -> bool:
    """Owner, enrolled user or staff: who may enter the course's realtime room."""
    if user.is_staff:
        return True
    return Course.objects.filter(id=course_id).filter(Q(owner=user) | Q(enrollments__user=user)).exists()


def user_get_active(*, user_id: int) -> User:
    """An active user by id; a missing or deactivated one is a 404 (the same answer for both)."""
    user = User.objects.filter(id=user_id, is_active=True).first()
    if user is None:
        raise NotFound("User not found.")
    return user
