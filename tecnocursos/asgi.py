"""ASGI entry point: daphne serves HTTP (Django) and WebSocket (Channels) here."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

from tecnocursos.bootstrap import prepare_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tecnocursos.settings")
prepare_process()  # daphne started on its own: the embedded Redis, unless another process runs it
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from monitoring.routing import websocket_urlpatterns as monitoring_sockets  # noqa: E402
from monitoring.websocket import WebSocketMetrics  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from tecnocursos.core.channels_auth import JWTAuthMiddleware  # noqa: E402
from tecnocursos.core.channels_origin import origin_check  # noqa: E402
from tecnocursos.core.channels_unavailable import RedisUnavailableMiddleware  # noqa: E402

# Around every consumer: a handshake that fails on Redis closes with 4503, not an HTTP 500.
sockets = RedisUnavailableMiddleware(URLRouter([*websocket_urlpatterns, *monitoring_sockets]))
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Outermost, to see handshakes the origin check refuses (docs/monitoring.md).
        "websocket": WebSocketMetrics(origin_check(JWTAuthMiddleware(sockets))),
    }
)

# What start-up built (Django, the URL conf, every module) lives as long as the process: out of the
# collector's reach, a full collection no longer walks it. Full collections over that heap paused a
# daphne serving 500 sockets for 80-136 ms, the fan-out's p99 (bench/RESULTS.md "Load").
gc.freeze()
