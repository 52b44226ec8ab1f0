"""Cross-process L1 coherence over Redis pub/sub.

Every write, delete, tag invalidation or clear publishes one message on the namespace's
channel; a daemon thread in every process applies it to its own L1. Messages name keys only
(never values), so nothing is unpickled from them.

Wire format:  origin (12 ascii chars) | kind (1 byte) | payload
  kind b"k": keys separated by NUL;  kind b"c": clear all.
A process ignores its own messages (it already applied them). While the subscription is down
messages are lost, so the engine treats Redis as down (L1 only) and clears L1 each time the
listener (re)subscribes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import redis

from tecnocursos.lib import redis_clients

log = logging.getLogger("tecnocursos.cache")

ORIGIN_LENGTH = 12
KEYS = b"k"
CLEAR = b"c"
_MAX_MESSAGE_KEYS = 1000


def key_messages(origin: bytes, keys: Iterable[str]) -> list[bytes]:
    """One message per chunk of keys, so a huge tag can't produce a huge message."""
    keys = list(keys)
    return [
        origin + KEYS + "\0".join(keys[i : i + _MAX_MESSAGE_KEYS]).encode()
        for i in range(0, len(keys), _MAX_MESSAGE_KEYS)
    ]


def clear_message(origin: bytes) -> bytes:
    return origin + CLEAR


def parse(message: bytes) -> tuple[bytes, bytes, list[str]]:
    """(origin, kind, keys)."""
    origin, kind = message[:ORIGIN_LENGTH], message[ORIGIN_LENGTH : ORIGIN_LENGTH + 1]
    body = message[ORIGIN_LENGTH + 1 :]
    keys = body.decode().split("\0") if kind == KEYS and body else []
    return origin, kind, keys


class Listener(threading.Thread):
    """Subscribes, applies messages, calls `on_tick` about every `tick_seconds`; reconnects forever."""

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        on_message: Callable[[bytes], None],
        on_subscribed: Callable[[], None],
        on_lost: Callable[[BaseException], None],
        on_tick: Callable[[], None],
        tick_seconds: float = 1.0,
        retry_seconds: float = 1.0,
    ):
        super().__init__(name=f"cache-coherence:{channel}", daemon=True)
        self.url = url
        self.channel = channel
        self.on_message = on_message
        self.on_subscribed = on_subscribed
        self.on_lost = on_lost
        self.on_tick = on_tick
        self.tick_seconds = tick_seconds
        self.retry_seconds = retry_seconds
        self.subscribed = threading.Event()
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self._listen()
            except (redis.RedisError, OSError) as exc:
                self.subscribed.clear()
                if self._stop_event.is_set():
                    return  # stopped while Redis went away (process exit): nothing to report
                self.on_lost(exc)
                self._stop_event.wait(self.retry_seconds)
            except Exception:  # a bug must not kill coherence for the life of the process
                log.exception("cache: coherence listener failed; restarting it")
                self.subscribed.clear()
                self._stop_event.wait(self.retry_seconds)

    def _listen(self) -> None:
        # Its own connection (a subscriber holds it for good), from the project's factory.
        client = redis_clients.new_sync_client(self.url)
        pubsub = client.pubsub()  # type: ignore[no-untyped-call]  # redis-py leaves Redis.pubsub unannotated
        try:
            pubsub.subscribe(self.channel)
            while not self._stop_event.is_set():
                message = pubsub.get_message(timeout=self.tick_seconds)
                if message is not None:
                    if message["type"] == "message":
                        self.on_message(message["data"])
                    elif message["type"] == "subscribe":
                        self.on_subscribed()
                        self.subscribed.set()
                self.on_tick()
        finally:
            self.subscribed.clear()
            pubsub.close()
            client.close()
