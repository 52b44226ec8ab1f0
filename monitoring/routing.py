from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import path

from monitoring import consumers

if TYPE_CHECKING:
    from channels.routing import URLRouter, _ExtendedURLPattern

# See realtime/routing.py for why the type ignores.
websocket_urlpatterns: list[_ExtendedURLPattern | URLRouter] = [
    path("ws/monitoring", consumers.MonitoringConsumer.as_asgi()),  # type: ignore[arg-type, list-item]
]
