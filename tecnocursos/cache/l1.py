"""L1: an in-process LRU bounded by item count and by bytes, with per-entry TTL.

Thread-safe (one lock, never held across I/O, so it is safe under asyncio too).
Values are kept in one of two forms (see docs/cache.md, "copy or share"):
  * immutable values (str, bytes, numbers, None, tuples/frozensets of those) are shared:
    handing the same object to every caller cannot be observed;
  * anything else is kept as its pickle and unpickled on every hit, so each caller gets
    its own copy, as Django's own backends do.
"""

from __future__ import annotations

import pickle
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable
from decimal import Decimal
from time import monotonic
from typing import Any

MISSING: Any = object()
_ENTRY_OVERHEAD = 120  # bytes per entry beyond key and value: dict slot, entry object, index

_IMMUTABLE_SCALARS = (str, bytes, int, float, bool, complex, Decimal, type(None))


def is_shareable(value: Any, _depth: int = 0) -> bool:
    """True when handing the same object to every caller is safe (it can't be mutated)."""
    kind = type(value)
    if kind in _IMMUTABLE_SCALARS:
        return True
    if (kind is tuple or kind is frozenset) and _depth < 3 and len(value) <= 64:
        return all(is_shareable(item, _depth + 1) for item in value)
    return False


def shared_size(value: Any) -> int:
    if type(value) in (str, bytes):
        return len(value)
    return sys.getsizeof(value)


class _Entry:
    __slots__ = ("value", "pickled", "expires", "size", "tags")

    def __init__(self, value: Any, pickled: bool, expires: float | None, size: int, tags: tuple[str, ...]):
        self.value = value
        self.pickled = pickled
        self.expires = expires
        self.size = size
        self.tags = tags


class L1Cache:
    """LRU + TTL. `ttl` arguments are seconds from now; None means no expiry."""

    def __init__(self, *, max_items: int = 1000, max_bytes: int = 100 * 1024 * 1024):
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._tags: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self.bytes = 0
        # Bumped by every write or invalidation: a promotion from L2 that read its value before
        # the bump is dropped, so a slow reader can't put back a value that was just replaced.
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.expirations = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> Any:
        """The value, or MISSING."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.misses += 1
                return MISSING
            if entry.expires is not None and entry.expires <= monotonic():
                self._drop(key, entry)
                self.expirations += 1
                self.misses += 1
                return MISSING
            self._data.move_to_end(key)
            self.hits += 1
        return pickle.loads(entry.value) if entry.pickled else entry.value

    def peek_ttl(self, key: str) -> float | None | Any:
        """Seconds left (None: no expiry), or MISSING; no LRU or stats side effects."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return MISSING
            if entry.expires is None:
                return None
            left = entry.expires - monotonic()
            return left if left > 0 else MISSING

    def contains(self, key: str) -> bool:
        return self.peek_ttl(key) is not MISSING

    def set(
        self,
        key: str,
        value: Any,
        ttl: float | None,
        *,
        pickled: bytes | None = None,
        tags: Iterable[str] = (),
        generation: int | None = None,
    ) -> bool:
        """Store `value` (or its `pickled` form when it is not shareable).

        With `generation`, store only if no write or invalidation happened since it was read.
        """
        if ttl is not None and ttl <= 0:
            self.delete(key)
            return False
        if is_shareable(value):
            stored, is_pickled, size = value, False, shared_size(value)
        else:
            stored = pickled if pickled is not None else pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            is_pickled, size = True, len(stored)
        size += len(key) + _ENTRY_OVERHEAD
        if size > self.max_bytes or self.max_items <= 0:
            self.delete(key)
            return False
        expires = None if ttl is None else monotonic() + ttl
        tags = tuple(tags)
        with self._lock:
            if generation is not None and generation != self.generation:
                return False
            if generation is None:
                self.generation += 1
            old = self._data.pop(key, None)
            if old is not None:
                self._unlink(key, old)
            self._data[key] = _Entry(stored, is_pickled, expires, size, tags)
            self.bytes += size
            for tag in tags:
                self._tags.setdefault(tag, set()).add(key)
            self._evict_over_limits()
        return True

    def touch(self, key: str, ttl: float | None) -> bool:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return False
            entry.expires = None if ttl is None else monotonic() + ttl
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            self.generation += 1
            entry = self._data.get(key)
            if entry is None:
                return False
            self._drop(key, entry)
            return True

    def delete_many(self, keys: Iterable[str]) -> int:
        removed = 0
        with self._lock:
            self.generation += 1
            for key in keys:
                entry = self._data.get(key)
                if entry is not None:
                    self._drop(key, entry)
                    removed += 1
        return removed

    def invalidate_tags(self, tags: Iterable[str]) -> int:
        """Drop every entry stored here with one of `tags`."""
        removed = 0
        with self._lock:
            self.generation += 1
            for tag in tags:
                for key in list(self._tags.get(tag, ())):
                    entry = self._data.get(key)
                    if entry is not None:
                        self._drop(key, entry)
                        removed += 1
                self._tags.pop(tag, None)
        return removed

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._data.clear()
            self._tags.clear()
            self.bytes = 0

    def snapshot(self) -> dict[str, int]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "items": len(self._data),
            "bytes": self.bytes,
            "evictions": self.evictions,
            "expirations": self.expirations,
            "max_items": self.max_items,
            "max_bytes": self.max_bytes,
        }

    # -- under the lock ---------------------------------------------------------------
    def _evict_over_limits(self) -> None:
        while self._data and (len(self._data) > self.max_items or self.bytes > self.max_bytes):
            key, entry = self._data.popitem(last=False)
            self._unlink(key, entry)
            self.evictions += 1

    def _drop(self, key: str, entry: _Entry) -> None:
        del self._data[key]
        self._unlink(key, entry)

    def _unlink(self, key: str, entry: _Entry) -> None:
        self.bytes -= entry.size
        for tag in entry.tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]
