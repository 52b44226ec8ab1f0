"""The engine: L1 in front of L2, coherent across processes, with tags, locks and stats.

Keys here are final (the Django layer has prefixed, versioned and made them safe). TTLs are
seconds: None = no expiry, <= 0 = expire now. Redis failures never reach callers: the engine
serves from L1, remembers which keys it changed meanwhile, and replays those as deletions
when Redis is back (so L2 can't keep a value that was replaced during the outage).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import secrets
import struct
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from time import monotonic
from typing import Any

from tecnocursos.cache import coherence
from tecnocursos.cache.codec import Codec, CorruptValue
from tecnocursos.cache.l1 import MISSING, L1Cache
from tecnocursos.cache.l2 import RedisTier, Unavailable

log = logging.getLogger("tecnocursos.cache")



@dataclass
class Counters:
    """What this process's engine did since it started; flushed to Redis with the stats."""

    l2_hits: int = 0
    l2_misses: int = 0
    promotions: int = 0
    sets: int = 0
    deletes: int = 0
    invalidations: int = 0
    errors: int = 0


COUNTERS = tuple(field.name for field in fields(Counters))
_PENDING_LIMIT = 10_000  # keys changed during an outage; beyond this, recovery clears all
_SNAPSHOT_MAX_AGE = 30.0  # seconds: a process that stopped reporting is left out of stats
_engines: weakref.WeakSet[TieredCacheEngine] = weakref.WeakSet()


class TieredCacheEngine:
    def __init__(
        self,
        url: str | None,
        *,
        namespace: str,
        l1_max_items: int = 1000,
        l1_max_bytes: int = 100 * 1024 * 1024,
        l1_max_ttl: float = 300.0,
        compressor: str = "zstd",
        min_compress_bytes: int = 1024,
        socket_timeout: float = 0.5,
        retry_seconds: float = 2.0,
        stats_interval: float = 1.0,
    ):
        self.url = url
        self.namespace = namespace
        self.l1 = L1Cache(max_items=l1_max_items, max_bytes=l1_max_bytes)
        self.l1_max_ttl = l1_max_ttl
        self.codec = Codec(compressor=compressor, min_compress_bytes=min_compress_bytes)
        self.channel = f"{namespace}:_inval"
        self.stats_key = f"{namespace}:_stats"
        self.procs_key = f"{namespace}:_procs"
        self.stats_interval = stats_interval
        self.retry_seconds = retry_seconds
        self._socket_timeout = socket_timeout
        self.counts = Counters()
        self._flushed: dict[str, int] = dict.fromkeys(("l1_hits", "l1_misses", "evictions", *COUNTERS), 0)
        self._pending: set[str] = set()
        self._pending_overflow = False
        self._pending_lock = threading.Lock()
        self._next_flush = 0.0
        self._listener: coherence.Listener | None = None
        self._start_lock = threading.Lock()
        self._new_identity()
        self.l2: RedisTier | None = None
        if url:
            self.l2 = RedisTier(
                url,
                socket_timeout=socket_timeout,
                retry_seconds=retry_seconds,
                on_up=self._replay_pending,
            )
            self._ensure_listener(wait=1.0)
        _engines.add(self)

    def _new_identity(self) -> None:
        self.origin = secrets.token_hex(coherence.ORIGIN_LENGTH // 2).encode()
        self.process_name = f"{os.uname().nodename}:{os.getpid()}:{self.origin.decode()[:6]}"

    # -- reads ----------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        value = self.l1.get(key)
        if value is not MISSING:
            return value
        return self._get_l2(key, default)

    def _get_l2(self, key: str, default: Any) -> Any:
        # The L2 hit path: one GET, the decode, one counter, the promotion. Nothing else per hit
        # (no TTL/PTTL round trip: the expiry is in the value's header; stats are flushed by
        # the listener thread once a second).
        l2 = self.l2
        if l2 is None:
            return default
        l1 = self.l1
        generation = l1.generation
        try:
            raw = l2.get(key)
        except Unavailable:
            return default
        if raw is None:
            self.counts.l2_misses += 1
            return default
        try:
            value, expiry_ms, pickled = self.codec.decode(raw)
        except CorruptValue as exc:
            self._drop_corrupt(key, exc)
            return default
        self.counts.l2_hits += 1
        if l1.max_items > 0:
            self._promote(key, value, expiry_ms, pickled, generation)
        return value

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        wanted: list[str] = []
        for key in keys:
            value = self.l1.get(key)
            if value is MISSING:
                wanted.append(key)
            else:
                found[key] = value
        if not wanted or self.l2 is None:
            return found
        generation = self.l1.generation
        try:
            raws = self.l2.mget(wanted)
        except Unavailable:
            return found
        for key, raw in zip(wanted, raws, strict=True):
            if raw is None:
                self.counts.l2_misses += 1
                continue
            try:
                value, expiry_ms, pickled = self.codec.decode(raw)
            except CorruptValue as exc:
                self._drop_corrupt(key, exc)
                continue
            self.counts.l2_hits += 1
            self._promote(key, value, expiry_ms, pickled, generation)
            found[key] = value
        return found

    def has_key(self, key: str) -> bool:
        if self.l1.contains(key):
            return True
        if self.l2 is None:
            return False
        try:
            return self.l2.exists(key)
        except Unavailable:
            return False

    def _promote(self, key: str, value: Any, expiry_ms: int, pickled: bytes | None, generation: int) -> None:
        if self.l1.max_items <= 0:
            return
        if pickled is None:
            # Plain integers (INCRBY-able) carry no expiry field: ask Redis for the TTL.
            if self.l2 is None:
                return
            try:
                left_ms = self.l2.client.pttl(key)
            except Exception:
                return
            if left_ms == -2 or left_ms == 0:
                return
            expiry_ms = 0 if left_ms == -1 else int(time.time() * 1000) + left_ms
        if expiry_ms:
            ttl = min(expiry_ms / 1000.0 - time.time(), self.l1_max_ttl)
            if ttl <= 0:
                return
        else:
            ttl = self.l1_max_ttl
        self._ensure_listener()
        if self.l1.set(key, value, ttl, pickled=pickled, generation=generation):
            self.counts.promotions += 1

    def _drop_corrupt(self, key: str, exc: Exception) -> None:
        self.counts.errors += 1
        log.warning("cache: unreadable value under %r (%s); deleting it", key, exc)
        if self.l2 is None:  # only values read from L2 are decoded
            return
        try:
            self.l2.delete([key], channel=self.channel, message=coherence.key_messages(self.origin, [key])[0])
        except Unavailable:
            pass

    # -- writes ---------------------------------------------------------------------------
    def set(self, key: str, value: Any, ttl: float | None, tags: Sequence[str] = ()) -> None:
        self.set_many({key: value}, ttl, tags)

    def set_many(self, mapping: Mapping[str, Any], ttl: float | None, tags: Sequence[str] = ()) -> list[str]:
        """Write through to L2; returns the keys that are not stored (Django's contract)."""
        if ttl is not None and ttl <= 0:
            self.delete_many(list(mapping))
            return []
        expiry_ms = 0 if ttl is None else int((time.time() + ttl) * 1000)
        items = []
        self._ensure_listener()
        for key, value in mapping.items():
            raw, pickled = self.codec.encode(value, expiry_ms)
            # L1 first: this process reads its own write even while Redis is down.
            self.l1.set(key, value, self._l1_ttl(ttl), pickled=pickled, tags=tags)
            items.append((key, raw))
        self.counts.sets += len(items)
        self._write_l2(items, ttl, tags)
        return []

    def add(self, key: str, value: Any, ttl: float | None, tags: Sequence[str] = ()) -> bool:
        """Store only if absent (asked of L2, the shared truth; of L1 when Redis is down)."""
        if self.l2 is None or not self.l2.available:
            if self.l1.contains(key):
                return False
            if ttl is not None and ttl <= 0:
                return True
            self.set(key, value, ttl, tags)
            return True
        expiry_ms = 0 if ttl is None or ttl <= 0 else int((time.time() + ttl) * 1000)
        raw, pickled = self.codec.encode(value, expiry_ms)
        ttl_ms = 0 if ttl is None else max(int(ttl * 1000), 1)
        try:
            stored = self.l2.write(
                [(key, raw)], ttl_ms, tag_keys=self._tag_keys(tags), nx=True,
            )[0]
        except Unavailable:
            return self.add(key, value, ttl, tags)
        if not stored:
            return False
        if ttl is not None and ttl <= 0:
            self.delete(key)  # Django: add() with a non-positive timeout stores nothing
            return True
        self.counts.sets += 1
        self._ensure_listener()
        self.l1.set(key, value, self._l1_ttl(ttl), pickled=pickled, tags=tags)
        self._publish_keys([key])
        return True

    def _write_l2(self, items: list[tuple[str, bytes]], ttl: float | None, tags: Sequence[str]) -> None:
        if self.l2 is None:
            return
        ttl_ms = 0 if ttl is None else max(int(ttl * 1000), 1)
        messages = coherence.key_messages(self.origin, [key for key, _ in items])
        try:
            self.l2.write(
                items, ttl_ms, tag_keys=self._tag_keys(tags), channel=self.channel, message=messages[0]
            )
            for message in messages[1:]:
                self.l2.publish(self.channel, message)
        except Unavailable:
            self._remember([key for key, _ in items])

    def delete(self, key: str) -> bool:
        return self.delete_many([key]) > 0

    def delete_many(self, keys: Sequence[str]) -> int:
        keys = list(keys)
        if not keys:
            return 0
        local = self.l1.delete_many(keys)
        self.counts.deletes += len(keys)
        if self.l2 is None:
            return local
        messages = coherence.key_messages(self.origin, keys)
        try:
            deleted = self.l2.delete(keys, channel=self.channel, message=messages[0])
            for message in messages[1:]:
                self.l2.publish(self.channel, message)
            return deleted
        except Unavailable:
            self._remember(keys)
            return local

    def touch(self, key: str, ttl: float | None) -> bool:
        if ttl is not None and ttl <= 0:
            return self.delete(key)
        if self.l2 is None or not self.l2.available:
            return self.l1.touch(key, self._l1_ttl(ttl))
        expiry_ms = 0 if ttl is None else int((time.time() + ttl) * 1000)
        ttl_ms = 0 if ttl is None else max(int(ttl * 1000), 1)
        try:
            touched = self.l2.touch(key, ttl_ms, struct.pack(">Q", expiry_ms))
        except Unavailable:
            return self.l1.touch(key, self._l1_ttl(ttl))
        self.l1.touch(key, self._l1_ttl(ttl))
        if touched:
            self._publish_keys([key])  # other processes re-read it with the new TTL
        return touched

    def incr(self, key: str, delta: int = 1) -> int:
        """Atomic in Redis; ValueError when the key is missing (Django's contract)."""
        if self.l2 is not None and self.l2.available:
            try:
                value = self.l2.incr(key, delta)
            except Unavailable:
                return self._incr_l1(key, delta)
            if value is None:
                self.l1.delete(key)
                raise ValueError(f"Key {key!r} not found")
            self.l1.delete(key)
            self._publish_keys([key])
            return value
        return self._incr_l1(key, delta)

    def _incr_l1(self, key: str, delta: int) -> int:
        value = self.l1.get(key)
        if value is MISSING:
            raise ValueError(f"Key {key!r} not found")
        ttl = self.l1.peek_ttl(key)
        new: int = value + delta
        self.l1.set(key, new, None if ttl is MISSING else ttl)
        self._remember([key])
        return new

    def invalidate_tags(self, tags: Iterable[str]) -> int:
        """Delete every entry stored with one of `tags`, here, in L2 and in every process's L1."""
        tags = list(tags)
        if not tags:
            return 0
        removed = self.l1.invalidate_tags(tags)
        if self.l2 is None:
            self.counts.invalidations += removed
            return removed
        try:
            keys = self.l2.invalidate_tags(self._tag_keys(tags))
        except Unavailable:
            self._remember_tags(tags)
            self.counts.invalidations += removed
            return removed
        # Promoted entries don't know their tags in L1: evict by the keys Redis had.
        self.l1.delete_many(keys)
        self._publish_keys(keys)
        self.counts.invalidations += max(len(keys), removed)
        return max(len(keys), removed)

    def clear(self) -> None:
        """Everything under the namespace (by SCAN: other data in the same Redis is kept)."""
        self.l1.clear()
        if self.l2 is None:
            return
        try:
            self.l2.delete_matching(f"{_glob_escape(self.namespace)}:*", keep=(self.stats_key, self.procs_key))
            self.l2.publish(self.channel, coherence.clear_message(self.origin))
        except Unavailable:
            with self._pending_lock:
                self._pending_overflow = True

    # -- locks (stampede protection) -------------------------------------------------------
    def lock_key(self, key: str) -> str:
        return f"{self.namespace}:_lock:{key}"

    def acquire_lock(self, key: str, token: str, timeout: float) -> bool | None:
        """True/False; None when Redis is down (the caller relies on its in-process lock)."""
        if self.l2 is None:
            return None
        try:
            return self.l2.acquire_lock(self.lock_key(key), token, max(int(timeout * 1000), 1))
        except Unavailable:
            return None

    def release_lock(self, key: str, token: str) -> None:
        if self.l2 is None:
            return
        try:
            self.l2.release_lock(self.lock_key(key), token)
        except Unavailable:
            pass

    # -- coherence --------------------------------------------------------------------------
    def _publish_keys(self, keys: Sequence[str]) -> None:
        if self.l2 is None or not keys:
            return
        try:
            for message in coherence.key_messages(self.origin, keys):
                self.l2.publish(self.channel, message)
        except Unavailable:
            self._remember(keys)

    def _ensure_listener(self, wait: float = 0.0) -> None:
        if self._listener is not None or self.url is None:
            return
        with self._start_lock:
            if self._listener is not None:
                return
            listener = coherence.Listener(
                self.url,
                self.channel,
                on_message=self._on_message,
                on_subscribed=self._on_subscribed,
                on_lost=self._on_listener_lost,
                on_tick=self._on_tick,
                tick_seconds=min(self.stats_interval, 1.0),
                retry_seconds=min(self.retry_seconds, 1.0),
            )
            listener.start()
            # Stopped before an embedded Redis this process owns goes down at exit (atexit is LIFO).
            atexit.register(listener.stop)
            self._listener = listener
        if wait:
            listener.subscribed.wait(wait)

    def _on_message(self, message: bytes) -> None:
        origin, kind, keys = coherence.parse(message)
        if origin == self.origin:
            return
        if kind == coherence.CLEAR:
            self.l1.clear()
        elif keys:
            self.l1.delete_many(keys)

    def _on_subscribed(self) -> None:
        # Messages published while we were not subscribed are lost: start L1 afresh.
        self.l1.clear()
        if self.l2 is not None:
            self.l2.note_up()

    def _on_listener_lost(self, exc: BaseException) -> None:
        # L1 is kept: while Redis is down nobody can change L2, and serving L1 is the point.
        # L2 counts as down until we are subscribed again, so no stale L1 meets a live L2.
        if self.l2 is not None:
            self.l2.note_down(exc)

    def _on_tick(self) -> None:
        now = monotonic()
        if now >= self._next_flush:
            self._next_flush = now + self.stats_interval
            self.flush_stats()

    # -- outages ----------------------------------------------------------------------------
    def _remember(self, keys: Iterable[str]) -> None:
        with self._pending_lock:
            self._pending.update(keys)
            if len(self._pending) > _PENDING_LIMIT:
                self._pending.clear()
                self._pending_overflow = True

    def _remember_tags(self, tags: Iterable[str]) -> None:
        self._remember(f"\0tag:{tag}" for tag in tags)

    def _replay_pending(self) -> None:
        """Redis is back: delete in L2 what changed here meanwhile, and tell the others."""
        l2 = self.l2
        if l2 is None:  # L2's own callback: it exists
            return
        with self._pending_lock:
            pending, overflow = self._pending, self._pending_overflow
            self._pending, self._pending_overflow = set(), False
        if not pending and not overflow:
            return
        try:
            if overflow:
                self.clear()
                return
            tags = [k[5:] for k in pending if k.startswith("\0tag:")]
            keys = [k for k in pending if not k.startswith("\0tag:")]
            if tags:
                keys += l2.invalidate_tags(self._tag_keys(tags))
            if keys:
                for i in range(0, len(keys), 500):
                    chunk = keys[i : i + 500]
                    l2.delete(chunk, channel=self.channel, message=coherence.key_messages(self.origin, chunk)[0])
            log.warning("cache: replayed %d changes made while Redis was down", len(pending))
        except Unavailable:
            self._remember(pending)

    # -- stats and health ----------------------------------------------------------------
    def counters(self) -> dict[str, int]:
        values = asdict(self.counts)
        values["l1_hits"] = self.l1.hits
        values["l1_misses"] = self.l1.misses
        values["evictions"] = self.l1.evictions
        if self.l2 is not None:
            values["errors"] += self.l2.errors
        return values

    def process_snapshot(self) -> dict[str, Any]:
        return {
            "process": self.process_name,
            "reported_at": time.time(),
            "l1": self.l1.snapshot(),
            "counters": self.counters(),
            "redis_available": self.l2 is not None and self.l2.available,
        }

    def flush_stats(self) -> bool:
        """Add this process's counters since the last flush to the shared ones in Redis."""
        if self.l2 is None or not self.l2.available:
            return False
        current = self.counters()
        deltas = {name: current[name] - self._flushed.get(name, 0) for name in current}
        snapshot = json.dumps(self.process_snapshot()).encode()
        try:
            self.l2.add_counters(self.stats_key, deltas, self.procs_key, self.process_name, snapshot)
        except Unavailable:
            return False
        self._flushed = current
        return True

    def shared_stats(self) -> dict[str, Any] | None:
        """Counters summed over every process, and the live processes' snapshots; None if Redis is down."""
        if self.l2 is None or not self.flush_stats():
            return None
        try:
            counters, snapshots = self.l2.read_stats(self.stats_key, self.procs_key)
        except Unavailable:
            return None
        now = time.time()
        live: list[tuple[bytes, dict[str, Any]]] = []
        stale: list[tuple[bytes, dict[str, Any]]] = []
        for field, raw in snapshots.items():
            snap = json.loads(raw)
            (live if now - snap["reported_at"] < _SNAPSHOT_MAX_AGE else stale).append((field, snap))
        if stale:
            try:
                self.l2.forget_snapshots(self.procs_key, [field for field, _ in stale])
            except Unavailable:
                pass
        return {
            "counters": {k.decode(): int(v) for k, v in counters.items()},
            "processes": [snap for _, snap in live],
        }

    def l2_size(self) -> dict[str, Any]:
        if self.l2 is None:
            return {"items": 0, "bytes": 0, "complete": True}
        try:
            items, size, complete = self.l2.count_matching(f"{_glob_escape(self.namespace)}:[^_]*")
        except Unavailable:
            return {"items": None, "bytes": None, "complete": False}
        return {"items": items, "bytes": size, "complete": complete}

    def health(self) -> dict[str, Any]:
        if self.l2 is None:
            return {"status": "ok", "l2": "disabled", "coherence": "disabled"}
        up = self.l2.available
        if not up:
            # Probe now so a health check notices recovery even on an idle process.
            try:
                self.l2.run(self.l2.client.ping)
                up = True
            except Unavailable:
                pass
        listening = self._listener is not None and self._listener.subscribed.is_set()
        return {
            "status": "ok" if up and listening else "degraded",
            "l2": "up" if up else "down",
            "coherence": "subscribed" if listening else "not subscribed",
            "down_since": self.l2.down_since,
            "last_error": self.l2.last_error or None,
        }

    # -- lifecycle ---------------------------------------------------------------------------
    def _after_fork(self) -> None:
        # The child has no listener thread and may have inherited a held lock: start clean.
        self.l1 = L1Cache(max_items=self.l1.max_items, max_bytes=self.l1.max_bytes)
        self._listener = None
        self._start_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._new_identity()
        if self.l2 is not None:
            self.l2._state_lock = threading.Lock()
            self.l2.client.connection_pool.reset()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self.l2 is not None:
            self.l2.close()

    # -- helpers -----------------------------------------------------------------------------
    def _l1_ttl(self, ttl: float | None) -> float:
        return self.l1_max_ttl if ttl is None else min(ttl, self.l1_max_ttl)

    def _tag_keys(self, tags: Iterable[str]) -> list[str]:
        return [f"{self.namespace}:_tag:{tag}" for tag in tags]


def _glob_escape(text: str) -> str:
    return "".join(f"\\{ch}" if ch in "*?[]\\" else ch for ch in text)


def _reset_after_fork() -> None:
    for engine in list(_engines):
        engine._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
