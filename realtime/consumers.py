"""WebSocket consumer for `/ws/connect` and `/ws/room/{room_name}`.

Thin: it checks limits and frames (`protocol`, `limits`), calls services and
selectors, and forwards group messages (`push`) to the socket. The frames and
events are in docs/api.md and docs/realtime.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from realtime import local_sockets, presence, progress_store, protocol, selectors, services
from realtime.events import BROADCAST_GROUP, chat_event, encoded, event, push, room_group, user_group, user_ref
from realtime.limits import FloodGuard, TokenBucket
from realtime.protocol import CLOSE_TOO_MANY_SOCKETS, ProtocolError
from tecnocursos.core.api.json_errors import RETRY_AFTER_SECONDS
from tecnocursos.core.channels_auth import CLOSE_UNAUTHORIZED, close_at_token_expiry, socket_auth
from tecnocursos.core.channels_dispatch import FanoutDispatchMixin
from tecnocursos.core.channels_unavailable import CLOSE_UNAVAILABLE, LAYER_LOST
from tecnocursos.core.channels_unavailable import REASON as UNAVAILABLE
from tecnocursos.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tecnocursos.core.types import User
from tecnocursos.lib.redis_clients import REDIS_DOWN

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]




class RealtimeConsumer(FanoutDispatchMixin, AsyncJsonWebsocketConsumer):
    # The mixin delivers `push` straight from the layer (docs/fanout.md): `push` only writes;
    # so does `layer.lost` (the layer lost Redis: close so the client recovers with `since`).
    socket_only_events: ClassVar[frozenset[str]] = frozenset({"push", LAYER_LOST})
    # A handshake that fails on Redis before connect() (Channels subscribes the socket's channel
    # first) is answered with 4503 by tecnocursos.core.channels_unavailable, around every consumer.
    user: User

    async def connect(self) -> None:
        auth = socket_auth(self.scope)
        self.ready = False  # frames and pushes are served only while True
        self.registered = False  # groups and presence to undo on disconnect
        self.rooms: dict[str, int] = {}  # joined room name -> Room id
        self.default_room: str | None = self.scope["url_route"]["kwargs"].get("room_name")
        self.background: list[asyncio.Task[None]] = []
        await self.accept(subprotocol=auth.subprotocol)
        if auth.user is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user = auth.user
        self.bucket = TokenBucket(settings.REALTIME_RATE_PER_SECOND, settings.REALTIME_RATE_BURST)
        self.flood = FloodGuard(settings.REALTIME_FLOOD_STRIKES, settings.REALTIME_FLOOD_WINDOW_SECONDS)
        self.registration = presence.Registration(user_id=self.user.pk, connection_id=uuid.uuid4().hex)
        try:
            sockets = await self._register()
        except REDIS_DOWN as exc:
            logger.warning("socket closed, Redis unavailable: %s", exc)
            await self.close(code=CLOSE_UNAVAILABLE, reason=UNAVAILABLE)
            return
        cap = int(settings.REALTIME_MAX_SOCKETS_PER_USER)
        if sockets > cap:  # counted across every server process (presence)
            await self.close(code=CLOSE_TOO_MANY_SOCKETS, reason=f"At most {cap} sockets per user.")
            return
        self.background = [asyncio.create_task(close_at_token_expiry(self, auth.token_exp)),
                           asyncio.create_task(self._heartbeat())]
        local_sockets.registry.add(self.user.pk, self)  # checked with the process's other users
        unread = await database_sync_to_async(selectors.notification_unread_count)(user=self.user)
        await self.emit(event("connection", user=user_ref(self.user), connection_id=self.registration.connection_id,
                              unread_notifications=unread))
        self.ready = True
        if self.default_room is not None:
            await self.serve(self.on_join_room, {"type": "join_room", "room": self.default_room})

    async def _register(self) -> int:
        """Join the user's and the broadcast groups, then presence; returns the user's socket count."""
        self.registered = True  # from the first step on, disconnect() undoes what was done
        for group in (user_group(self.user.pk), BROADCAST_GROUP):
            await self.channel_layer.group_add(group, self.channel_name)
        return await presence.register(self.registration)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.ready = False  # nothing more is served or pushed on a closing socket
        await super().close(code=code, reason=reason)

    async def disconnect(self, code: int) -> None:
        for task in self.background:
            task.cancel()
        self.ready = False
        if not getattr(self, "registered", False):
            return
        self.registered = False
        local_sockets.registry.discard(self.user.pk, self)
        # Each step on its own: one that Redis refuses must not skip the others (presence
        # entries left behind expire after REALTIME_PRESENCE_TTL).
        for name in list(self.rooms):
            await self._quietly(self._leave(name))
        for group in (user_group(self.user.pk), BROADCAST_GROUP):
            await self._quietly(self.channel_layer.group_discard(group, self.channel_name))
        await self._quietly(presence.unregister(self.registration))

    @staticmethod
    async def _quietly(step: Awaitable[None]) -> None:
        try:
            await step
        except REDIS_DOWN as exc:
            logger.warning("socket cleanup step failed, Redis unavailable: %s", exc)

    # --- background -------------------------------------------------------------

    async def _heartbeat(self) -> None:
        """Refresh presence. (Whether the user is still active is asked once per process for
        every local socket: realtime/local_sockets.py.)"""
        while True:
            await asyncio.sleep(float(settings.REALTIME_PRESENCE_HEARTBEAT))
            try:
                await presence.refresh(self.registration)
            except Exception:  # a Redis blip must not kill the socket; the next beat retries
                logger.warning("presence heartbeat failed", exc_info=True)

    # --- frames in ----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if not self.ready:
            return
        self.registration.counters["messages_in"] += 1
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.REALTIME_MAX_FRAME_BYTES:
            await self.refuse(ProtocolError(
                "too_large", f"Frames are limited to {settings.REALTIME_MAX_FRAME_BYTES} bytes.",
                max_bytes=settings.REALTIME_MAX_FRAME_BYTES))
            return
        wait = self.bucket.take()
        if wait > 0:
            self.registration.counters["rate_limited"] += 1
            await self.refuse(ProtocolError("rate_limited", "Too many frames; slow down.",
                                            retry_after=round(wait, 3)))
            return
        try:
            frame = protocol.decode(text_data, bytes_data)
        except ProtocolError as exc:
            await self.send_error(exc)
            return
        handler = self.handlers().get(frame["type"])
        if handler is None:
            await self.send_error(ProtocolError("unknown_type", f"Unknown frame type {frame['type'][:50]!r}."))
            return
        await self.serve(handler, frame)

    def handlers(self) -> dict[str, Handler]:
        return {
            "ping": self.on_ping,
            "join_room": self.on_join_room,
            "leave_room": self.on_leave_room,
            "chat": self.on_chat,
            "progress": self.on_progress,
        }

    async def serve(self, handler: Handler, frame: dict[str, Any]) -> None:
        try:
            await handler(frame)
        except ProtocolError as exc:
            await self.send_error(exc)
        except PermissionDenied as exc:
            await self.send_error(ProtocolError("forbidden", exc.message, **self._room_of(frame)))
        except NotFound as exc:
            await self.send_error(ProtocolError("not_found", exc.message))
        except services.RoomLimit as exc:
            await self.send_error(ProtocolError("room_limit", exc.message, **self._room_of(frame)))
        except ApplicationError as exc:
            await self.send_error(ProtocolError("invalid", exc.message))
        except REDIS_DOWN as exc:
            logger.warning("realtime frame %r: Redis unavailable: %s", frame.get("type"), exc)
            await self.send_error(ProtocolError("unavailable", UNAVAILABLE, retry_after=RETRY_AFTER_SECONDS))
        except Exception:  # one bad frame must not take the connection down
            logger.exception("realtime frame %r failed", frame.get("type"))
            await self.send_error(ProtocolError("server_error", "The frame could not be served."))

    @staticmethod
    def _room_of(frame: dict[str, Any]) -> dict[str, Any]:
        return {"room": frame["room"]} if isinstance(frame.get("room"), str) else {}

    async def refuse(self, error: ProtocolError) -> None:
        """A frame refused for abuse; too many of them close the socket."""
        if self.flood.strike():
            self.ready = False
            await self.close(code=settings.REALTIME_FLOOD_CLOSE_CODE)
            return
        await self.send_error(error)

    # --- handlers -----------------------------------------------------------------

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.emit(event("pong"))

    async def on_join_room(self, frame: dict[str, Any]) -> None:
        name = protocol.room_name(frame.get("room"))
        since = protocol.since(frame)
        rejoin = name in self.rooms
        if not rejoin and len(self.rooms) >= settings.REALTIME_MAX_ROOMS:
            raise ProtocolError("too_many_rooms", f"At most {settings.REALTIME_MAX_ROOMS} rooms per connection.",
                                room=name)
        room = await database_sync_to_async(services.room_enter)(user=self.user, name=name)
        joined = event("join_room", room=name, user=user_ref(self.user))
        if not rejoin:  # a re-join changes no membership: only the asker hears it
            await self.channel_layer.group_send(room_group(name), push(joined))
        # Sent straight to the joiner so it comes before `history`.
        await self.emit(joined)
        if not rejoin:
            # Join the group before reading history: a message sent meanwhile arrives
            # live, in history, or both (clients drop duplicate ids), never neither.
            await self.channel_layer.group_add(room_group(name), self.channel_name)
            self.rooms[name] = room.id
            await presence.join(self.registration, name)
        messages, recovered = await database_sync_to_async(selectors.chat_history)(
            room_id=room.id, since=since, limit=settings.REALTIME_HISTORY_LENGTH)
        await self.emit(event("history", room=name, messages=messages, recovered=recovered))

    async def on_leave_room(self, frame: dict[str, Any]) -> None:
        name = self._joined_room(frame.get("room"))
        await self.emit(event("leave_room", room=name, user=user_ref(self.user)))
        await self._leave(name)

    async def _leave(self, name: str) -> None:
        """Leave the group, then tell the remaining members."""
        self.rooms.pop(name, None)
        await self.channel_layer.group_discard(room_group(name), self.channel_name)
        await presence.leave(self.registration, name)
        await self.channel_layer.group_send(room_group(name), push(event("leave_room", room=name,
                                                                         user=user_ref(self.user))))

    async def on_chat(self, frame: dict[str, Any]) -> None:
        name = self._joined_room(frame.get("room", self.default_room))
        body = protocol.chat_text(frame, max_length=settings.REALTIME_CHAT_MAX_LENGTH)
        client_id = protocol.client_id(frame)
        posted = await database_sync_to_async(services.chat_send)(room_id=self.rooms[name], user=self.user,
                                                                  body=body, client_id=client_id)
        if posted.duplicate:  # a retry: the stored message again, to the sender only
            await self.emit({**chat_event(posted.message, room=name, user=self.user), "duplicate": True})
            return
        self.registration.counters["chat_messages"] += 1
        if not posted.pushed:  # stored, so a retry must not post it again: say so
            await self.send_error(ProtocolError(
                "unavailable", f"Stored as id {posted.message.seq} but not delivered live (Redis is unavailable); "
                "members get it by joining with `since`.", room=name, stored=True, id=posted.message.seq,
                **({"client_id": client_id} if client_id else {}), retry_after=RETRY_AFTER_SECONDS))

    def _joined_room(self, value: Any) -> str:
        name = protocol.room_name(value)
        if name not in self.rooms:
            raise ProtocolError("not_member", f"You have not joined room '{name}'.", room=name)
        return name

    async def on_progress(self, frame: dict[str, Any]) -> None:
        """The latest progress of one job (`task_id`), or of all the user's kept jobs."""
        task_id = protocol.task_id(frame)
        if task_id is None:
            jobs = await progress_store.latest(user_id=self.user.pk)
            await self.emit(event("progress_list", jobs=jobs))
            return
        latest = await progress_store.get(user_id=self.user.pk, task_id=task_id)
        if latest is None:
            raise ProtocolError("not_found", "No progress is kept for that task.", task_id=task_id)
        await self.emit(latest)

    # --- events out -----------------------------------------------------------------

    async def emit(self, payload: dict[str, Any]) -> None:
        await self._send_text(json.dumps(payload))  # what send_json sends

    async def send_error(self, error: ProtocolError) -> None:
        self.registration.counters["errors"] += 1
        await self.emit(event("error", code=error.code, message=error.message, **error.extra))

    async def push(self, message: dict[str, Any]) -> None:
        """A group message carrying a ready event for this socket."""
        if self.ready:  # not after a 4401/flood close
            await self._send_text(encoded(message["event"]))  # the text group members share

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)
        self.registration.counters["messages_out"] += 1

    async def layer_lost(self, message: dict[str, Any]) -> None:
        """This process lost Redis: pushes may have been missed. The client reconnects and
        recovers chat with `since` (4503: "try again shortly")."""
        if getattr(self, "registered", False):
            await self.close(code=CLOSE_UNAVAILABLE, reason=UNAVAILABLE)

    async def revoke(self, message: dict[str, Any]) -> None:
        """The user was deactivated or deleted (realtime/signals.py, realtime/local_sockets.py)."""
        await self.close(code=CLOSE_UNAUTHORIZED, reason="The account is no longer active.")
