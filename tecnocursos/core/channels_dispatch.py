"""Fan-out hot path for consumers (measured in bench/fanout_bench.py, see docs/fanout.md).

In core, not in realtime/fanout beside the layer, because every app's consumer may take it
(the monitoring feed does, for the layer's `layer.lost`).

Two per-socket costs dominate a daphne profile of one group message to N sockets, and
neither is the layer's:

* Channels' `AsyncConsumer.dispatch` runs `close_old_connections()` through
  `sync_to_async` before every handler: a hop to the one sync thread and back, per
  message per socket. A handler that only writes to the socket does not need it (ORM
  work goes through `database_sync_to_async`, which closes old connections itself).
* Each message wakes the consumer's own task through its channel queue and
  `await_many_dispatch`. With realtime.fanout.layer.FanoutChannelLayer the
  layer instead calls the handler of every local member in one loop (`attach_direct`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from channels.consumer import get_handler_name

if TYPE_CHECKING:
    from asgiref.typing import WebSocketConnectEvent, WebSocketDisconnectEvent
    from channels.generic.websocket import AsyncWebsocketConsumer

    _ConsumerBase = AsyncWebsocketConsumer  # what the mixin is mixed into, for the type checker
else:
    _ConsumerBase = object


class FanoutDispatchMixin(_ConsumerBase):
    """Serve socket-only group events on the fan-out fast path.

    Put it before the Channels consumer class in the bases. Handlers of the event types
    in `socket_only_events` must only write to the socket: no synchronous database access,
    nothing that blocks (they may run in the layer's receiver task), no change to the message.
    Groups are joined as before, with `self.channel_layer.group_add(group, self.channel_name)`.
    """

    socket_only_events: ClassVar[frozenset[str]] = frozenset({"push"})

    _fanout_live = False  # until connect() has run, group messages wait in the queue

    async def websocket_connect(self, message: WebSocketConnectEvent) -> None:
        attach = getattr(self.channel_layer, "attach_direct", None)
        if attach is not None:  # other layers: only the dispatch shortcut below applies
            await attach(self.channel_name, self.socket_only_events, self._direct)
        await super().websocket_connect(message)
        self._fanout_live = True

    async def _direct(self, message: dict[str, Any]) -> bool:
        # Declined before connect() is done: handlers may rely on what it sets up, and the
        # consumer's own loop dispatches the message once connect() returns.
        if not self._fanout_live:
            return False
        await self._serve_socket_only(message)
        return True

    async def websocket_disconnect(self, message: WebSocketDisconnectEvent) -> None:
        try:
            await super().websocket_disconnect(message)
        finally:
            detach = getattr(self.channel_layer, "detach_direct", None)
            if detach is not None:
                detach(self.channel_name)

    async def _serve_socket_only(self, message: dict[str, Any]) -> None:
        await getattr(self, get_handler_name(message))(message)

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in self.socket_only_events:
            await self._serve_socket_only(message)
            return
        await super().dispatch(message)
