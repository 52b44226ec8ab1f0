"""Baseline for bench/fanout_bench.py: a minimal Channels app that only relays `group_send`.

No auth, history or limits: every socket on `/ws/relay` joins one group, and a group
message `{"type": "relay", "text": ...}` is written to every member as is. The channel
layer comes from the `FANOUT_LAYER` environment variable (JSON: `{"BACKEND", "CONFIG"}`),
so the same consumer measures the layer's defaults and each candidate mechanism.

    FANOUT_LAYER='{"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {...}}' \
        .venv/bin/daphne -b 127.0.0.1 -p 9101 bench.fanout_relay:application
"""

from __future__ import annotations

import json
import os
from typing import Any

import django
from django.conf import settings

GROUP = "fanout"

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={"default": json.loads(os.environ["FANOUT_LAYER"])},
        LOGGING_CONFIG=None,
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from tecnocursos.core.channels_dispatch import FanoutDispatchMixin  # noqa: E402


class RelayConsumer(AsyncWebsocketConsumer):
    groups = [GROUP]  # joined by Channels on connect, left on disconnect

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # A frame from a client is fanned out to the whole group (the "one message in").
        await self.channel_layer.group_send(GROUP, {"type": "relay", "text": text_data or ""})

    async def relay(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])


class FastRelayConsumer(FanoutDispatchMixin, RelayConsumer):
    """The relay with the project's dispatch fast path (tecnocursos/core/channels_dispatch.py)."""

    socket_only_events = frozenset({"relay"})


# FANOUT_RELAY_FAST=1 measures the dispatch fast path on the same relay.
consumer = FastRelayConsumer if os.environ.get("FANOUT_RELAY_FAST") == "1" else RelayConsumer
application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/relay", consumer.as_asgi())])})
