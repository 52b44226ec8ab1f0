"""WebSocket consumers: `/ws/connect` and `/ws/room/{room_name}`."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from realtime.events import event, user_group

CLOSE_UNAUTHORIZED = 4401


class UserConsumer(AsyncJsonWebsocketConsumer):
    """The user's main connection: auth, its user group, ping and pushed events."""

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.connection_id = uuid.uuid4().hex
        self.groups_joined: list[str] = []
        self._expiry: asyncio.TimerHandle | None = None
        await self.accept(subprotocol=self.scope.get("subprotocol"))
        if not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        await self._join(user_group(self.user.id))
        self._schedule_expiry(self.scope.get("token_exp"))
        await self.send_json(event("connection", user=self.user_ref(), connection_id=self.connection_id))

    def user_ref(self) -> dict[str, Any]:
        return {"id": self.user.id, "username": self.user.get_username()}

    def _schedule_expiry(self, exp: int | None) -> None:
        if exp is None:
            return
        delay = max(0.0, exp - time.time())
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(delay, lambda: loop.create_task(self.close(code=CLOSE_UNAUTHORIZED)))

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def disconnect(self, code: int) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json(event("pong"))
            return
        await self.send_json(event("error", code="unknown_type", message="Unknown or missing type."))

    async def push(self, message: dict[str, Any]) -> None:
        """A group message carrying a ready event for this socket."""
        await self.send_json(message["event"])
