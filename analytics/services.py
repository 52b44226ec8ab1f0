"""Writes of analytics: a login row, and the cache tag of the user reports."""

from __future__ import annotations

from datetime import datetime

from analytics.models import Login
from tecnocursos.cache.tags import ANALYTICS_USERS, invalidate_on_commit
from tecnocursos.core.types import User


def login_record(*, user: User, at: datetime, via: str) -> Login:
    login = Login.objects.create(user=user, at=at, via=via)
    invalidate_on_commit([ANALYTICS_USERS])
    return login
