from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import path

from realtime import consumers

if TYPE_CHECKING:
    from channels.routing import URLRouter, _ExtendedURLPattern

# Channels routes ASGI applications with Django's path(), which django-stubs type for views only;
# the Channels stubs name such a route an _ExtendedURLPattern.
websocket_urlpatterns: list[_ExtendedURLPattern | URLRouter] = [
    path("ws/connect", consumers.RealtimeConsumer.as_asgi()),  # type: ignore[arg-type, list-item]
    path("ws/room/<str:room_name>", consumers.RealtimeConsumer.as_asgi()),  # type: ignore[arg-type, list-item]
]
