"""The project's ASGI app with realtime.fanout.FanoutDispatchMixin on its consumer (bench only).

Measures what the one-line consumer change proposed in docs/fanout.md gives, before it is
made: the same routes, middleware and settings as tecnocursos.asgi, only the consumer class
differs. `.venv/bin/daphne bench.fanout_app:application`.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tecnocursos.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from realtime.consumers import RealtimeConsumer  # noqa: E402
from realtime.fanout import FanoutDispatchMixin  # noqa: E402
from tecnocursos.core.channels_auth import JWTAuthMiddleware  # noqa: E402
from tecnocursos.core.channels_origin import origin_check  # noqa: E402


class FastRealtimeConsumer(FanoutDispatchMixin, RealtimeConsumer):
    pass


websocket_urlpatterns = [
    path("ws/connect", FastRealtimeConsumer.as_asgi()),
    path("ws/room/<str:room_name>", FastRealtimeConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": origin_check(JWTAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
