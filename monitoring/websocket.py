"""WebSocket metrics that realtime does not already count, as an ASGI wrapper.

realtime's presence (what /ws/stats shows) counts open connections per server process,
connections opened, frames in and out and errors: those are read from it, not counted
again. This wrapper, installed around the WebSocket stack in tecnocursos/asgi.py, adds
what only the ASGI messages show:

* closes by code (`closed|<code>`): the server's close, or the client's when it closed first;
* refused handshakes by reason (`refused|origin`: closed before accept, as the Origin check
  does; `refused|auth`: closed with 4401 before any frame, as an unauthenticated socket is);
* errors by code (`error|<code>`), read from the outgoing `error` events (a prefix test per
  frame; only error frames are decoded).

Counts go to the process's recorder, flushed to Redis per process and in total.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from monitoring.recorder import recorder
from tecnocursos.core.channels_auth import CLOSE_UNAUTHORIZED

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Any ASGI app; channels' own middleware types its arguments more narrowly than Scope/Receive/Send.
App = Callable[..., Awaitable[Any]]

_ERROR_PREFIX = '{"type": "error"'


def _error_code(text: str) -> str:
    try:
        code = json.loads(text).get("code")
    except (ValueError, AttributeError):
        return "unknown"
    return str(code)[:50] if code else "unknown"


class _Socket:
    __slots__ = ("accepted", "closed", "frames_out", "has_origin")

    def __init__(self, scope: Scope) -> None:
        self.accepted = False
        self.closed = False
        self.frames_out = 0
        self.has_origin = any(name == b"origin" for name, _ in scope.get("headers", ()))


class WebSocketMetrics:
    def __init__(self, inner: App) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        rec = recorder()
        if scope.get("type") != "websocket" or not rec.collecting:
            return await self.inner(scope, receive, send)
        rec.ensure_flusher()
        socket = _Socket(scope)
        count = rec.aggregator.record_event

        async def counting_send(message: Message) -> None:
            kind = message.get("type")
            if kind == "websocket.send":
                socket.frames_out += 1
                text = message.get("text")
                if text is not None and text.startswith(_ERROR_PREFIX):
                    count(f"error|{_error_code(text)}")
            elif kind == "websocket.accept":
                socket.accepted = True
            elif kind == "websocket.close" and not socket.closed:
                socket.closed = True
                code = int(message.get("code") or 1000)
                if not socket.accepted:
                    count("refused|origin" if socket.has_origin else "refused|handshake")
                elif code == CLOSE_UNAUTHORIZED and socket.frames_out == 0:
                    count("refused|auth")
                else:
                    count(f"closed|{code}")
            await send(message)

        async def counting_receive() -> Message:
            message = await receive()
            if message.get("type") == "websocket.disconnect" and socket.accepted and not socket.closed:
                socket.closed = True
                count(f"closed|{int(message.get('code') or 1005)}")
            return message

        return await self.inner(scope, counting_receive, counting_send)
