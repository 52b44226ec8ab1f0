from __future__ import annotations

from django.urls import path

from realtime import consumers

websocket_urlpatterns = [
    path("ws/connect", consumers.UserConsumer.as_asgi()),
]
