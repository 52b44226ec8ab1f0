"""Channel layer with process-local fan-out (docs/fanout.md; measured by bench/fanout_bench.py).

Built on channels_redis' pub/sub layer, which already publishes a group message once and
lets each process subscribe once per group. Two things are added for the fan-out path:

* Direct delivery. A consumer may attach a callback for the message types it serves
  without touching the database (`attach_direct`, used by realtime.fanout). A group
  message is then deserialized once per process and handed to every attached local member
  in one loop, in the process's receiver task: no per-socket queue, task wake-up and
  Channels dispatch. Members that did not attach get it through their queue as before.
* Bounded queues. A consumer that stops reading loses its oldest messages (like the core
  layer's `capacity`) instead of growing without limit, as the pub/sub layer's do.

Delivery stays at most once, as with any pub/sub: what is published while a process is
disconnected from Redis is not replayed (chat is recovered from the database with `since`).
So that clients know to recover, losing the pub/sub connection sends `layer.lost` to every
local channel attached for it (`LAYER_LOST`: the realtime and monitoring consumers close their
sockets with 4503, and the client reconnects; realtime's with `since`). The pool is the project's blocking, bounded one
(tecnocursos/lib/redis_clients.py) with the timeouts and retry given in CONFIG `hosts`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from channels_redis.core import BoundedQueue
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close

from tecnocursos.core.channels_unavailable import LAYER_LOST
from tecnocursos.lib.redis_clients import REDIS_DOWN, async_pool_for_host

logger = logging.getLogger(__name__)

# Returns whether it delivered the message; False sends it through the channel's queue.
DirectCallback = Callable[[dict[str, Any]], Awaitable[bool]]


@dataclass(frozen=True)
class _Direct:
    types: frozenset[str]
    callback: DirectCallback


class FanoutChannelLayer(RedisPubSubChannelLayer):
    """`channels_redis.pubsub.RedisPubSubChannelLayer` plus direct local delivery.

    Extra CONFIG: `capacity` (messages kept per channel queue, default 1000).
    """

    def __init__(self, *args: Any, capacity: int = 1000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capacity = capacity

    def _get_layer(self) -> FanoutLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = FanoutLoopLayer(*self._args, **self._kwargs, channel_layer=self, capacity=self.capacity)
            self._layers[loop] = layer
            _wrap_close(self, loop)  # the pool closes with its event loop, as in the parent
            return layer


class FanoutLoopLayer(RedisPubSubLoopLayer):
    """The per-event-loop half: local channels, groups, and the attached callbacks."""

    def __init__(self, *args: Any, capacity: int = 1000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capacity = capacity
        self.direct: dict[str, _Direct] = {}
        self._shards: list[FanoutShardConnection] = [FanoutShardConnection(shard.host, self) for shard in self._shards]
        self._unsubscribing: set[asyncio.Task[None]] = set()

    async def receive(self, channel: str) -> Any:
        """The parent's receive, with the clean-up on cancel moved out of the cancelled task.

        A consumer's receive is cancelled when its socket closes; the parent then awaits the
        shard's lock to unsubscribe, and a second cancel (daphne closing many sockets at once)
        lands there: the channel stayed subscribed in Redis for the life of the process and an
        ERROR was logged per socket. A task of its own finishes the unsubscribe whatever
        happens to the consumer.
        """
        if channel not in self.channels:
            await self._subscribe_to_channel(channel)
        queue = self.channels[channel]
        try:
            data = await queue.get()
        except (asyncio.CancelledError, TimeoutError, GeneratorExit):
            if self.channels.pop(channel, None) is not None:
                task = asyncio.get_running_loop().create_task(self._unsubscribe(channel))
                self._unsubscribing.add(task)
                task.add_done_callback(self._unsubscribing.discard)
            raise
        return self.channel_layer.deserialize(data)

    async def _unsubscribe(self, channel: str) -> None:
        try:
            await self._get_shard(channel).unsubscribe(channel)
        except Exception as exc:  # Redis away: the subscription dies with the connection anyway
            logger.warning("unsubscribing %s failed: %s", channel, exc)

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = BoundedQueue(self.capacity)
        try:
            await self._get_shard(channel).subscribe(channel)
        except BaseException:  # Redis down: no half-made channel left behind
            self.channels.pop(channel, None)
            raise

    async def connection_lost(self) -> None:
        """The pub/sub connection dropped: what was published meanwhile is gone for this process."""
        lost = {"type": LAYER_LOST}
        for target in list(self.direct.values()):
            if LAYER_LOST in target.types:
                try:
                    await target.callback(lost)
                except Exception:
                    logger.exception("layer.lost delivery failed")

    async def attach_direct(self, channel: str, types: Iterable[str], callback: DirectCallback) -> None:
        """Deliver group messages of `types` for `channel` by awaiting `callback(message)`.

        The callback runs in the receiver task, for every local member in turn: it must not
        block, must not modify the message (members share it), and should not raise. It
        returns False to decline (e.g. its consumer is not set up yet): the message then
        goes through the channel's queue. While that queue holds anything, messages keep
        going through it, so a direct message never overtakes a queued one.
        """
        if channel not in self.channels:
            await self._subscribe_to_channel(channel)
        self.direct[channel] = _Direct(frozenset(types), callback)

    def detach_direct(self, channel: str) -> None:
        self.direct.pop(channel, None)

    async def flush(self) -> None:
        self.direct = {}
        await super().flush()

    async def deliver(self, name: str, data: bytes) -> None:
        """One message from Redis: to a channel's queue, or to every local member of a group."""
        if name in self.channels:
            self.channels[name].put_nowait(data)
            return
        members = self.groups.get(name)
        if not members:
            return
        message: dict[str, Any] | None = None
        direct: list[tuple[DirectCallback, asyncio.Queue[Any]]] = []
        for channel in list(members):
            queue = self.channels.get(channel)
            if queue is None:  # its consumer has gone (receive cancelled): forget it
                self.direct.pop(channel, None)
                continue
            target = self.direct.get(channel)
            if target is not None and queue.empty():
                if message is None:
                    message = self.channel_layer.deserialize(data)  # once per process, not per socket
                if message.get("type") in target.types:
                    direct.append((target.callback, queue))
                    continue
            queue.put_nowait(data)
        if message is None:  # no member is served directly
            return
        for callback, queue in direct:
            try:
                if not await callback(message):
                    queue.put_nowait(data)
            except Exception:  # one socket's failure must not stop the others' delivery
                logger.exception("direct delivery of a group message failed")


class FanoutShardConnection(RedisSingleShardConnection):
    """The pub/sub reader that hands each message to `FanoutLoopLayer.deliver`, in order."""

    def _ensure_redis(self) -> None:
        if self._redis is None:  # type: ignore[has-type]  # channels_redis is untyped
            client = aioredis.Redis(connection_pool=async_pool_for_host(self.host))
            self._redis = client
            self._pubsub = client.pubsub()

    async def _do_receiving(self) -> None:
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    if message is not None:
                        name = message["channel"]
                        await self.channel_layer.deliver(name.decode() if isinstance(name, bytes) else name,
                                                         message["data"])
                else:
                    await asyncio.sleep(0.1)
            except REDIS_DOWN as exc:
                logger.warning("channel layer lost Redis (%s); reconnecting", exc)
                await self.channel_layer.connection_lost()
                await asyncio.sleep(1)
            except Exception:  # not CancelledError: the loop must outlive any error but its own cancel
                logger.exception("channel layer receive loop failed; retrying")
                await asyncio.sleep(1)
