"""Every Redis client in the project comes from here (presence, progress, the cache's L2, the
channel layer, monitoring, health checks), so they all behave the same under trouble:

* Bounded, *blocking* pools: a burst of 2,000 sockets waits up to `pool_timeout` seconds for one
  of `max_connections` connections instead of failing at once with "Too many connections".
* Socket and connect timeouts: a Redis that hangs costs seconds, not a stuck worker.
* Stale connections heal: `health_check_interval` pings a connection idle that long before using
  it, and one retry reconnects a connection that a Redis restart broke (the first command after
  Redis returns works).

`REDIS_DOWN` is what "Redis is unavailable" looks like to callers (HTTP answers 503, sockets
close with 4503). No Django imports at module level: settings.py builds the options.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# MaxConnectionsError and BusyLoadingError are ConnectionErrors; OSError covers a refused unix socket.
REDIS_DOWN: tuple[type[redis.RedisError], ...] = (redis.ConnectionError, redis.TimeoutError)


@dataclass(frozen=True)
class RedisOptions:
    max_connections: int = 200  # per pool (one pool per process and event loop)
    pool_timeout: float = 5.0  # seconds a command waits for a free pooled connection
    socket_timeout: float = 5.0
    connect_timeout: float = 2.0
    health_check_interval: int = 15
    retries: int = 1  # enough to reconnect a stale connection; more only delays the 503


def _retry(options: RedisOptions, *, asyncio: bool) -> Retry | AsyncRetry:
    # Only Redis' own errors: the builtin TimeoutError is also how a pub/sub poll with a timeout
    # ends, and retrying that reconnects the subscriber on every quiet poll. An asyncio client needs
    # the asyncio Retry: the sync one does not await the command, so it never retries at all.
    errors = REDIS_DOWN
    backoff = ExponentialBackoff(cap=0.5, base=0.05)
    if asyncio:
        return AsyncRetry(backoff, options.retries, supported_errors=errors)
    return Retry(backoff, options.retries, supported_errors=errors)


def connection_kwargs(options: RedisOptions, *, asyncio: bool, decode_responses: bool = False) -> dict[str, Any]:
    """What every connection gets, for clients built elsewhere (channels_redis' pub/sub pool)."""
    return {
        "socket_timeout": options.socket_timeout,
        "socket_connect_timeout": options.connect_timeout,
        "health_check_interval": options.health_check_interval,
        "retry": _retry(options, asyncio=asyncio),
        "decode_responses": decode_responses,
    }


def _options() -> RedisOptions:
    from django.conf import settings

    if not settings.configured:  # plain-Python users (benches of the cache engine)
        return RedisOptions()
    options = getattr(settings, "REDIS_OPTIONS", None)
    return options if isinstance(options, RedisOptions) else RedisOptions()


def _url() -> str:
    from django.conf import settings

    return str(settings.REDIS.redis_py)


def sync_pool(url: str, options: RedisOptions, *, decode_responses: bool = False,
              socket_timeout: float | None = None) -> redis.BlockingConnectionPool:
    kwargs = connection_kwargs(options, asyncio=False, decode_responses=decode_responses)
    if socket_timeout is not None:
        kwargs.update(socket_timeout=socket_timeout,
                      socket_connect_timeout=min(socket_timeout, options.connect_timeout))
    return redis.BlockingConnectionPool.from_url(
        url, max_connections=options.max_connections, timeout=options.pool_timeout, **kwargs)


def new_sync_client(url: str | None = None, *, options: RedisOptions | None = None, decode_responses: bool = False,
                    socket_timeout: float | None = None) -> redis.Redis:
    """A client of its own (its own pool): for owners that close it themselves (the cache's L2)."""
    pool = sync_pool(url or _url(), options or _options(), decode_responses=decode_responses,
                     socket_timeout=socket_timeout)
    return redis.Redis.from_pool(pool)  # closing the client closes its pool


@cache
def _shared_sync(url: str, options: RedisOptions, decode_responses: bool) -> redis.Redis:
    return new_sync_client(url, options=options, decode_responses=decode_responses)


def sync_client(url: str | None = None, *, decode_responses: bool = False) -> redis.Redis:
    """The process's shared client for `url` (default: settings.REDIS)."""
    return _shared_sync(url or _url(), _options(), decode_responses)


def async_pool(url: str, options: RedisOptions, *, decode_responses: bool = False) -> aioredis.BlockingConnectionPool:
    return aioredis.BlockingConnectionPool.from_url(
        url, max_connections=options.max_connections, timeout=options.pool_timeout,
        **connection_kwargs(options, asyncio=True, decode_responses=decode_responses))


def async_pool_for_host(host: dict[str, Any]) -> aioredis.BlockingConnectionPool:
    """A channels_redis host (`{"address": url, **connection kwargs}`) as a blocking pool: the
    factory's settings, with what the host names taking precedence."""
    options = _options()
    kwargs = {**connection_kwargs(options, asyncio=True), "max_connections": options.max_connections,
              "timeout": options.pool_timeout, **host}
    address = kwargs.pop("address", None)
    if address is None:  # a (host, port) pair
        return aioredis.BlockingConnectionPool(**kwargs)
    return aioredis.BlockingConnectionPool.from_url(address, **kwargs)


# redis.asyncio connections belong to the event loop that opened them: one client per loop.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, bool], aioredis.Redis]] = (
    weakref.WeakKeyDictionary())


def async_client(url: str | None = None, *, decode_responses: bool = False) -> aioredis.Redis:
    """This event loop's shared client for `url` (default: settings.REDIS)."""
    loop = asyncio.get_running_loop()
    clients = _async_clients.setdefault(loop, {})
    ident = (url or _url(), decode_responses)
    client = clients.get(ident)
    if client is None:
        client = clients[ident] = aioredis.Redis.from_pool(
            async_pool(ident[0], _options(), decode_responses=decode_responses))
    return client


async def close_async_clients() -> None:
    """Close this event loop's clients (tests, and loops that end)."""
    for client in _async_clients.pop(asyncio.get_running_loop(), {}).values():
        await client.aclose()
