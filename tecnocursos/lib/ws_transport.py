"""Limits daphne must enforce itself, below the ASGI application (installed by tecnocursos/serve.py).

* Slow readers. A socket that does not read makes every event sent to it wait in the server's
  user-space buffer (Twisted keeps what the kernel would not take), without bound. Once a
  socket's unsent bytes pass REALTIME_MAX_SEND_BUFFER_BYTES its connection is dropped: the
  buffer is freed at once, the application gets its disconnect (presence is cleaned up), and
  the client reconnects and recovers chat with `since` when it can read again. What the dropped
  buffers held goes back to the system (glibc keeps freed heap memory otherwise: `malloc_trim`,
  at most once a second). The kernel's share
  is capped too: each WebSocket's SO_SNDBUF is set to REALTIME_SOCKET_SEND_BUFFER_BYTES (Linux
  would otherwise grow it to tcp_wmem's maximum, 4 MiB, per socket that stops reading).
* Oversize frames. Autobahn fails a frame over daphne's `--websocket-max-frame-size`-style limit
  (1 MiB) by dropping TCP (the client sees 1006). Instead send an `error` event `too_large`
  and close with 1009, as the protocol intends.
* Close reasons. Daphne drops the `reason` of `websocket.close`; clients are given it.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import json
import logging
import socket
import time
from datetime import UTC, datetime
from typing import Any

from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol
from daphne.ws_protocol import WebSocketProtocol

logger = logging.getLogger(__name__)
DEFAULT_MAX_SEND_BUFFER = 1024 * 1024


def buffered_bytes(transport: Any) -> int:
    """What a Twisted TCP transport holds unsent (its FileDescriptor buffers); 0 if unknown."""
    data = getattr(transport, "dataBuffer", b"")
    return max(0, len(data) - int(getattr(transport, "offset", 0))) + int(getattr(transport, "_tempDataLen", 0))


@functools.cache  # read on every send: settings are fixed for the process's life
def _max_send_buffer() -> int:
    return _setting("REALTIME_MAX_SEND_BUFFER_BYTES", DEFAULT_MAX_SEND_BUFFER)


@functools.cache  # find_library runs `ldconfig -p`: once, not on the event loop at every trim
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return None if name is None else ctypes.CDLL(name)
    except OSError:
        return None


_trimmed_at = 0.0


def _release_memory() -> None:
    """Give freed heap back to the system after slow readers' buffers were dropped (glibc only)."""
    global _trimmed_at
    now = time.monotonic()
    if now - _trimmed_at < 1.0:
        return
    _trimmed_at = now
    libc = _libc()
    try:
        if libc is not None:
            libc.malloc_trim(0)
    except AttributeError:  # not glibc
        pass


def _discard_buffers(transport: Any) -> None:
    # An aborted transport never writes its buffers, but keeps them as long as something holds
    # the transport (the protocol, until the application has finished): free them now.
    if hasattr(transport, "_tempDataBuffer"):
        transport._tempDataBuffer = []
        transport._tempDataLen = 0
    if hasattr(transport, "dataBuffer"):
        transport.dataBuffer = b""
        transport.offset = 0


def _setting(name: str, default: int) -> int:
    from django.conf import settings

    return int(getattr(settings, name, default))


def _on_open(self: WebSocketProtocol) -> None:
    size = _setting("REALTIME_SOCKET_SEND_BUFFER_BYTES", 0)
    handle = getattr(self.transport, "getHandle", None)
    if size > 0 and handle is not None:
        try:
            handle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        except (OSError, AttributeError):  # not a socket (tests' fake transports)
            pass
    _original_on_open(self)


def _server_send(self: WebSocketProtocol, content: Any, binary: bool = False) -> None:
    # What earlier sends left unsent, before this one: Twisted writes on the next loop turn, so a
    # large event (a full `history`) is never counted against the socket that is sent it.
    if self.state in (AutobahnProtocol.STATE_CLOSING, AutobahnProtocol.STATE_CLOSED):
        return  # the socket is going: the application gets its disconnect; no traceback per push
    limit = _max_send_buffer()
    if limit > 0 and self.state == AutobahnProtocol.STATE_OPEN and buffered_bytes(self.transport) > limit:
        logger.warning("dropping slow WebSocket reader %s: over %d bytes unsent", self.client_addr, limit)
        self.wasClean = False
        self.dropConnection(abort=True)  # abort: the buffer is discarded, not flushed first
        _discard_buffers(self.transport)
        # Daphne runs Twisted on the asyncio loop; trim once the connection and its buffers are gone.
        asyncio.get_event_loop().call_later(1.0, _release_memory)
        return
    _original_server_send(self, content, binary)


def _fail_connection(self: WebSocketProtocol, code: int = AutobahnProtocol.CLOSE_STATUS_CODE_GOING_AWAY,
                     reason: str = "going away") -> None:
    if code == AutobahnProtocol.CLOSE_STATUS_CODE_MESSAGE_TOO_BIG and self.state == AutobahnProtocol.STATE_OPEN:
        limit = int(self.maxMessagePayloadSize or self.maxFramePayloadSize or 0)
        error = {"type": "error", "code": "too_large", "message": f"Frames are limited to {limit} bytes.",
                 "max_bytes": limit, "timestamp": datetime.now(UTC).isoformat()}
        self.sendMessage(json.dumps(error).encode())
        self.failedByMe = True
        self.sendCloseFrame(code=code, reasonUtf8=b"Frame too large.", isReply=False)
        return
    _original_fail_connection(self, code, reason)


def _handle_reply(self: WebSocketProtocol, message: dict[str, Any]) -> None:
    if message.get("type") == "websocket.close" and message.get("reason") and self.state == self.STATE_OPEN:
        self.sendClose(code=message.get("code") or 1000, reason=str(message["reason"])[:120])
        return
    _original_handle_reply(self, message)


_original_on_open = WebSocketProtocol.onOpen
_original_server_send = WebSocketProtocol.serverSend
_original_fail_connection = WebSocketProtocol._fail_connection
_original_handle_reply = WebSocketProtocol.handle_reply


def install() -> None:
    WebSocketProtocol.onOpen = _on_open
    WebSocketProtocol.serverSend = _server_send
    WebSocketProtocol._fail_connection = _fail_connection
    WebSocketProtocol.handle_reply = _handle_reply
