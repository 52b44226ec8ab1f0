"""Realtime settings mistakes surface at startup, not as odd behaviour later."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

POSITIVE = [
    "REALTIME_MAX_FRAME_BYTES", "REALTIME_RATE_PER_SECOND", "REALTIME_RATE_BURST", "REALTIME_FLOOD_STRIKES",
    "REALTIME_FLOOD_WINDOW_SECONDS", "REALTIME_MAX_ROOMS", "REALTIME_CHAT_MAX_LENGTH", "REALTIME_HISTORY_LENGTH",
    "REALTIME_CHAT_KEEP", "REALTIME_PRESENCE_TTL", "REALTIME_PRESENCE_HEARTBEAT", "REALTIME_PROGRESS_TTL",
    "REALTIME_MAX_SOCKETS_PER_USER",
]


@register()
def realtime_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = [
        Error(f"{name} must be a positive number.", id="realtime.E001")
        for name in POSITIVE if not getattr(settings, name, 0) > 0
    ]
    if settings.REALTIME_PRESENCE_HEARTBEAT >= settings.REALTIME_PRESENCE_TTL:
        errors.append(Error("REALTIME_PRESENCE_HEARTBEAT must be shorter than REALTIME_PRESENCE_TTL, "
                            "or live connections drop out of presence.", id="realtime.E002"))
    if not 4000 <= settings.REALTIME_FLOOD_CLOSE_CODE <= 4999:
        errors.append(Error("REALTIME_FLOOD_CLOSE_CODE must be an application close code (4000-4999).",
                            id="realtime.E003"))
    if settings.REALTIME_HISTORY_LENGTH > settings.REALTIME_CHAT_KEEP:
        errors.append(Error("REALTIME_HISTORY_LENGTH cannot exceed REALTIME_CHAT_KEEP.", id="realtime.E004"))
    return errors
