"""`/ws/monitoring`: the staff-only live feed of the operations dashboard.

Read-only: the server pushes `sample` and `alert` events (monitoring/live.py) to every
socket in the `monitoring` group; the client may only `ping`. Authenticated like the
other sockets (JWT in `?token=` or the `access_token` subprotocol): no or a bad token
closes with 4401, a non-staff user with 4403, both before any event. When this process's
channel layer loses Redis the socket is closed with 4503, like the realtime ones: samples
published meanwhile are lost for it, and the dashboard reconnects and reloads.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any, ClassVar

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from monitoring.live import MONITORING_GROUP
from tecnocursos.core.channels_auth import CLOSE_UNAUTHORIZED, close_at_token_expiry, socket_auth
from tecnocursos.core.channels_dispatch import FanoutDispatchMixin
from tecnocursos.core.channels_unavailable import CLOSE_UNAVAILABLE, LAYER_LOST
from tecnocursos.core.channels_unavailable import REASON as UNAVAILABLE
from tecnocursos.lib.redis_clients import REDIS_DOWN
from tecnocursos.lib.timefmt import utc_iso

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403


def _event(type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, **fields, "timestamp": utc_iso(datetime.now(tz=UTC))}


class MonitoringConsumer(FanoutDispatchMixin, AsyncJsonWebsocketConsumer):
    # Only `layer.lost` comes straight from the layer (which hands it to attached channels alone).
    socket_only_events: ClassVar[frozenset[str]] = frozenset({LAYER_LOST})

    async def connect(self) -> None:
        auth = socket_auth(self.scope)
        self.joined = False
        self.expiry: asyncio.Task[None] | None = None
        await self.accept(subprotocol=auth.subprotocol)
        if auth.user is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        if not auth.user.is_staff:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(MONITORING_GROUP, self.channel_name)
        self.joined = True
        # Closed with 4401 when the token expires, like /ws/connect: the page fetches a fresh one.
        self.expiry = asyncio.create_task(close_at_token_expiry(self, auth.token_exp, before=self._leave))
        await self.send_json(_event("connection", user={"id": auth.user.pk, "username": auth.user.get_username()},
                                    group=MONITORING_GROUP))

    async def _leave(self) -> None:
        if getattr(self, "joined", False):
            self.joined = False
            try:
                await self.channel_layer.group_discard(MONITORING_GROUP, self.channel_name)
            except REDIS_DOWN as exc:  # the subscription goes with the lost connection anyway
                logger.warning("monitoring socket left its group without Redis: %s", exc)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "expiry", None) is not None:
            self.expiry.cancel()  # type: ignore[union-attr]
        await self._leave()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if not self.joined:
            return
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            await self.send_json(_event("error", code="bad_json", message="Frames are JSON objects."))
            return
        if isinstance(frame, dict) and frame.get("type") == "ping":
            await self.send_json(_event("pong"))
            return
        await self.send_json(_event("error", code="unknown_type",
                                    message="This socket is read-only; the only frame is ping."))

    async def push(self, message: dict[str, Any]) -> None:
        """A `sample` or `alert` event for every staff socket (monitoring/live.py)."""
        if self.joined:
            await self.send_json(message["event"])

    async def layer_lost(self, message: dict[str, Any]) -> None:
        """This process lost Redis: pushes may have been missed (4503: "try again shortly")."""
        if self.joined:
            await self.close(code=CLOSE_UNAVAILABLE, reason=UNAVAILABLE)
