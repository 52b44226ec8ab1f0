from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsStaff(BasePermission):
    """Staff only; anonymous callers still get 401 from authentication first."""

    def has_permission(self, request, view) -> bool:  # noqa: ANN001
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
