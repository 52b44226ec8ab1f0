from __future__ import annotations

from django.urls import path

from realtime import consumers

websocket_urlpatterns = [
    path("ws/connect", consumers.RealtimeConsumer.as_asgi()),
    path("ws/room/<str:room_name>", consumers.RealtimeConsumer.as_asgi()),
]
