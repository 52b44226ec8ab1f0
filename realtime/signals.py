"""A user deactivated or deleted loses their sockets at once (realtime/local_sockets.py also
checks every heartbeat, for changes made where signals do not fire, such as queryset updates)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from realtime import services


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="realtime_user_deactivated")
def _user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        services.user_sockets_close(user_id=instance.pk)


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="realtime_user_deleted")
def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    services.user_sockets_close(user_id=instance.pk)
