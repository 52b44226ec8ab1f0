"""WebSocket handshakes during a Redis outage close with 4503, never an HTTP 500.

Channels subscribes each socket's channel in Redis before the consumer reads its first message
(the pub/sub layer's `new_channel`), so with Redis down the application fails before it has even
seen the handshake, and daphne answers that with a 500. This middleware, around every consumer,
answers such a handshake itself: accepted, then closed with 4503 and a reason ("try again
shortly"). Once the consumer has read the handshake, its errors are its own (the realtime consumer
closes with 4503 too). Only `receive` is watched: sends, the hot path, are not wrapped.
"""

from __future__ import annotations

import logging
from typing import Any

from tecnocursos.lib.redis_clients import REDIS_DOWN

logger = logging.getLogger(__name__)
CLOSE_UNAVAILABLE = 4503
REASON = "The realtime service is unavailable (Redis); retry shortly."
# The group message the channel layer (realtime/fanout/layer.py) hands to the consumers attached
# for it when it loses its pub/sub connection: what is published meanwhile is lost for them, so
# they close with 4503 and their clients reconnect and reload.
LAYER_LOST = "layer.lost"


class RedisUnavailableMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        started = False

        async def watched_receive() -> Any:
            nonlocal started
            started = True
            return await receive()

        try:
            return await self.inner(scope, watched_receive, send)
        except REDIS_DOWN as exc:
            if started or scope.get("type") != "websocket":
                raise
            logger.warning("socket refused, Redis unavailable: %s", exc)
            if (await receive()).get("type") == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE, "reason": REASON})
            return None
