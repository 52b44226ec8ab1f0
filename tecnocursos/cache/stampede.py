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
import logging
import math
import random
import secrets
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
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


class _KeyLocks:
    """One threading.Lock per key in use, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list[Any]] = {}

    def acquire(self, key: str, blocking: bool = True) -> threading.Lock | None:
        with self._guard:
            slot = self._locks.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        if slot[0].acquire(blocking):
            return slot[0]
        self._leave(key, slot)
        return None

    def release(self, key: str, lock: threading.Lock) -> None:
        lock.release()
        with self._guard:
            slot = self._locks.get(key)
            if slot is not None:
                self._leave_locked(key, slot)

    def _leave(self, key: str, slot: list[Any]) -> None:
        with self._guard:
            self._leave_locked(key, slot)

    def _leave_locked(self, key: str, slot: list[Any]) -> None:
        slot[1] -= 1
        if slot[1] <= 0 and self._locks.get(key) is slot:
            del self._locks[key]


class Stampede:
    def __init__(self, engine: TieredCacheEngine, *, lock_timeout: float = 10.0, beta: float = 1.0):
        self.engine = engine
        self.lock_timeout = lock_timeout
        self.beta = beta
        self._local = _KeyLocks()
        self._inflight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future]] = (
            weakref.WeakKeyDictionary()
        )

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
            return self._compute_across_processes(key, compute, ttl, tags, stale=envelope)
        finally:
            self._local.release(key, lock)

    def _compute_across_processes(
        self, key: str, compute: Callable[[], Any], ttl: float | None, tags: Sequence[str], stale: Any
    ) -> Any:
        token = secrets.token_hex(8)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            got = self.engine.acquire_lock(key, token, self.lock_timeout)
            if got is None or got:
                break
            if stale is not MISSING:
                return stale[0]  # another process is refreshing; serve the current value
            time.sleep(_POLL_SECONDS)
            found = self.engine.get(key, MISSING)
            if found is not MISSING:
                return found[0]
            if time.monotonic() >= deadline:
                break  # the holder died or is too slow: compute ourselves
        try:
            if got and stale is MISSING:
                found = self.engine.get(key, MISSING)  # the previous holder may have just stored it
                if found is not MISSING:
                    return found[0]
            started = time.time()
            value = compute()
            _store(self.engine.set, key, _envelope(value, started, ttl), ttl, tags)
            return value
        finally:
            if got:
                self.engine.release_lock(key, token)

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
            value = await self._acompute_across_processes(key, compute, ttl, tags, stale=envelope)
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            raise
        finally:
            inflight.pop(key, None)

    async def _acompute_across_processes(
        self, key: str, compute: Callable[[], Awaitable[Any]], ttl: float | None, tags: Sequence[str], stale: Any
    ) -> Any:
        token = secrets.token_hex(8)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            got = await asyncio.to_thread(self.engine.acquire_lock, key, token, self.lock_timeout)
            if got is None or got:
                break
            if stale is not MISSING:
                return stale[0]
            await asyncio.sleep(_POLL_SECONDS)
            found = await asyncio.to_thread(self.engine.get, key, MISSING)
            if found is not MISSING:
                return found[0]
            if time.monotonic() >= deadline:
                break
        try:
            if got and stale is MISSING:
                found = await asyncio.to_thread(self.engine.get, key, MISSING)
                if found is not MISSING:
                    return found[0]
            started = time.time()
            value = await compute()
            await asyncio.to_thread(_store, self.engine.set, key, _envelope(value, started, ttl), ttl, tags)
            return value
        finally:
            if got:
                await asyncio.to_thread(self.engine.release_lock, key, token)


def _store(set_: Callable[..., None], key: str, envelope: tuple, ttl: float | None, tags: Sequence[str]) -> None:
    try:
        set_(key, envelope, ttl, tags)
    except TypeError as exc:  # an unpicklable result is returned, just not cached
        log.warning("cache: not caching %r: %s", key, exc)


def _consume_exception(future: asyncio.Future) -> None:
    # Nobody may be waiting on the shared future: mark its exception as retrieved.
    if not future.cancelled():
        future.exception()
