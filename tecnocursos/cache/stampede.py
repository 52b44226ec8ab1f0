"""Compute a missing value once, however many callers miss it at the same time.

  * In a process: callers of one key queue on a per-key lock (threads) or await one future
    (asyncio), so only one of them asks Redis for the lock.
  * Across processes: a Redis lock (SET NX PX) with a timeout; the others poll the cache until
    the value appears or the lock times out (then they compute themselves rather than wait).
  * Before expiry: probabilistic early refresh ("XFetch", Vattani et al. 2015). Each hit
    recomputes early with a probability that grows as expiry nears and with how long the value
    took to compute, so one caller refreshes while the others keep getting the current value.

Values are stored in an envelope (value, compute seconds, expiry epoch seconds).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import random
import secrets
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any

from tecnocursos.cache.l1 import MISSING
from tecnocursos.cache.tiered import TieredCacheEngine

_POLL_SECONDS = 0.01
_UNREAD: Any = object()
log = logging.getLogger("tecnocursos.cache")


def should_refresh(envelope: tuple[Any, float, float | None], beta: float) -> bool:
    _, delta, expires_at = envelope
    if expires_at is None or delta <= 0 or beta <= 0:
        return False
    return time.time() - delta * beta * math.log(random.random() or 1e-12) >= expires_at


def _envelope(value: Any, started: float, ttl: float | None) -> tuple[Any, float, float | None]:
    now = time.time()
    return value, now - started, None if ttl is None else now + ttl


class _Slot:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0  # holding or waiting


class _KeyLocks:
    """One threading.Lock per key in use, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._slots: dict[str, _Slot] = {}

    def acquire(self, key: str, blocking: bool = True) -> threading.Lock | None:
        with self._guard:
            slot = self._slots.setdefault(key, _Slot())
            slot.users += 1
        if slot.lock.acquire(blocking):
            return slot.lock
        self._leave(key, slot)
        return None

    def release(self, key: str, lock: threading.Lock) -> None:
        lock.release()
        slot = self._slots.get(key)
        if slot is not None:
            self._leave(key, slot)

    def _leave(self, key: str, slot: _Slot) -> None:
        with self._guard:
            slot.users -= 1
            if slot.users <= 0 and self._slots.get(key) is slot:
                del self._slots[key]


class _Op(enum.Enum):
    """The I/O steps of the cross-process protocol; a driver performs them, sync or async."""

    ACQUIRE = enum.auto()  # (key, token, timeout) -> True, False (held elsewhere) or None (Redis down)
    GET = enum.auto()  # key -> envelope or MISSING
    SLEEP = enum.auto()  # seconds
    COMPUTE = enum.auto()  # -> the value
    STORE = enum.auto()  # (key, envelope, ttl, tags)
    RELEASE = enum.auto()  # (key, token)


Protocol = Generator[tuple[_Op, Any], Any, Any]


class Stampede:
    def __init__(self, engine: TieredCacheEngine, *, lock_timeout: float = 10.0, beta: float = 1.0):
        self.engine = engine
        self.lock_timeout = lock_timeout
        self.beta = beta
        self._local = _KeyLocks()
        self._inflight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future[Any]]] = (
            weakref.WeakKeyDictionary()
        )

    # -- the protocol, written once ----------------------------------------------------------
    def _across_processes(self, key: str, ttl: float | None, tags: Sequence[str], stale: Any) -> Protocol:
        """Take the Redis lock and compute, or wait for whoever holds it (serving `stale` if any)."""
        token = secrets.token_hex(8)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            got = yield _Op.ACQUIRE, (key, token, self.lock_timeout)
            if got is None or got:
                break  # ours, or Redis is down: compute without a lock
            if stale is not MISSING:
                return stale[0]  # another process is refreshing; serve the current value
            yield _Op.SLEEP, _POLL_SECONDS
            found = yield _Op.GET, key
            if found is not MISSING:
                return found[0]
            if time.monotonic() >= deadline:
                break  # the holder died or is too slow: compute ourselves
        try:
            if got and stale is MISSING:
                found = yield _Op.GET, key  # the previous holder may have just stored it
                if found is not MISSING:
                    return found[0]
            started = time.time()
            value = yield _Op.COMPUTE, None
            yield _Op.STORE, (key, _envelope(value, started, ttl), ttl, tags)
            return value
        finally:
            if got:
                yield _Op.RELEASE, (key, token)

    # -- sync ------------------------------------------------------------------------------
    def get_or_compute(
        self, key: str, compute: Callable[[], Any], ttl: float | None, tags: Sequence[str] = (),
        *, envelope: Any = _UNREAD,
    ) -> Any:
        """`envelope`: what the caller just read with engine.get (saves a second lookup)."""
        if envelope is _UNREAD:
            envelope = self.engine.get(key, MISSING)
        if envelope is not MISSING and not should_refresh(envelope, self.beta):
            return envelope[0]
        # A hit due for early refresh doesn't wait: whoever holds the lock is refreshing it.
        lock = self._local.acquire(key, blocking=envelope is MISSING)
        if lock is None:
            return envelope[0]
        try:
            if envelope is MISSING:
                fresh = self.engine.get(key, MISSING)  # filled while we queued
                if fresh is not MISSING:
                    return fresh[0]
            return _drive(self._across_processes(key, ttl, tags, envelope), lambda op, arg: self._do(op, arg, compute))
        finally:
            self._local.release(key, lock)

    def _do(self, op: _Op, arg: Any, compute: Callable[[], Any]) -> Any:
        if op is _Op.ACQUIRE:
            return self.engine.acquire_lock(*arg)
        if op is _Op.GET:
            return self.engine.get(arg, MISSING)
        if op is _Op.SLEEP:
            return time.sleep(arg)
        if op is _Op.COMPUTE:
            return compute()
        if op is _Op.STORE:
            return _store(self.engine.set, *arg)
        return self.engine.release_lock(*arg)

    # -- asyncio ---------------------------------------------------------------------------
    async def aget_or_compute(
        self, key: str, compute: Callable[[], Awaitable[Any]], ttl: float | None, tags: Sequence[str] = (),
        *, envelope: Any = _UNREAD,
    ) -> Any:
        """`envelope`: what the caller just read from L1 (MISSING: L2 is still asked)."""
        if envelope is _UNREAD:
            envelope = self.engine.l1.get(key)  # L1 is memory only: no need to leave the loop
        if envelope is MISSING:
            envelope = await asyncio.to_thread(self.engine.get, key, MISSING)
        if envelope is not MISSING and not should_refresh(envelope, self.beta):
            return envelope[0]
        inflight = self._inflight.setdefault(asyncio.get_running_loop(), {})
        running = inflight.get(key)
        if running is not None:
            if envelope is not MISSING:
                return envelope[0]
            return await asyncio.shield(running)
        future = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume_exception)
        inflight[key] = future
        try:
            value = await _adrive(self._across_processes(key, ttl, tags, envelope),
                                  lambda op, arg: self._ado(op, arg, compute))
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            raise
        finally:
            inflight.pop(key, None)

    async def _ado(self, op: _Op, arg: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        if op is _Op.SLEEP:
            return await asyncio.sleep(arg)
        if op is _Op.COMPUTE:
            return await compute()
        # Redis calls are blocking: off the event loop.
        return await asyncio.to_thread(self._do, op, arg, _no_compute)


def _drive(protocol: Protocol, do: Callable[[_Op, Any], Any]) -> Any:
    """Run the protocol, performing each step with `do`; a step's exception goes back into it."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            op, arg = protocol.throw(error) if error is not None else protocol.send(result)
        except StopIteration as done:
            return done.value
        error = None
        try:
            result = do(op, arg)
        except BaseException as exc:
            error = exc


async def _adrive(protocol: Protocol, do: Callable[[_Op, Any], Awaitable[Any]]) -> Any:
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            op, arg = protocol.throw(error) if error is not None else protocol.send(result)
        except StopIteration as done:
            return done.value
        error = None
        try:
            result = await do(op, arg)
        except BaseException as exc:
            error = exc


def _no_compute() -> Any:
    raise AssertionError("compute runs on the event loop")


def _store(
    set_: Callable[..., None], key: str, envelope: tuple[Any, float, float | None], ttl: float | None,
    tags: Sequence[str],
) -> None:
    try:
        set_(key, envelope, ttl, tags)
    except TypeError as exc:  # an unpicklable result is returned, just not cached
        log.warning("cache: not caching %r: %s", key, exc)


def _consume_exception(future: asyncio.Future[Any]) -> None:
    # Nobody may be waiting on the shared future: mark its exception as retrieved.
    if not future.cancelled():
        future.exception()
