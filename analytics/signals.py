"""Receivers: analytics listens to the writes it reports on; the writers don't know it exists."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone

from analytics import services
from analytics.models import Login
from tecnocursos.cache.tags import ANALYTICS_USERS, invalidate_on_commit


def on_login(sender: Any, request: HttpRequest | None, user: Any, via: str = Login.Via.SESSION, **kwargs: Any) -> None:
    # The token view says `via="token"`; Django's own session login sends no `via`.
    services.login_record(user=user, at=timezone.now(), via=via)


def on_user_change(sender: Any, created: bool = True, **kwargs: Any) -> None:
    if created or kwargs.get("signal") is post_delete:
        invalidate_on_commit([ANALYTICS_USERS])  # totals and new users


def connect(user_model: type) -> None:
    user_logged_in.connect(on_login, dispatch_uid="analytics.login")
    post_save.connect(on_user_change, sender=user_model, dispatch_uid="analytics.user_saved")
    post_delete.connect(on_user_change, sender=user_model, dispatch_uid="analytics.user_deleted")
