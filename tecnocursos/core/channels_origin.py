"""Origin check for WebSocket handshakes.

Browsers always send `Origin`; a foreign one is refused (cross-site WebSocket
hijacking). Native apps and servers send none and authenticate by token, so a
missing Origin is let through, unlike Channels' AllowedHostsOriginValidator.
"""

from __future__ import annotations

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings


class OriginCheck(OriginValidator):
    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def origin_check(inner: Any) -> OriginCheck:
    allowed = list(settings.ALLOWED_HOSTS) + list(getattr(settings, "WS_ALLOWED_ORIGINS", []))
    if settings.DEBUG:
        allowed += ["localhost", "127.0.0.1", "[::1]"]
    return OriginCheck(inner, allowed)
