"""L1: an in-process LRU bounded by item count and by bytes, with per-entry TTL.

Writes and invalidations take one lock (never held across I/O, so it is safe under asyncio
too). A hit takes none: it is a handful of operations on C structures (dict lookup,
`OrderedDict.move_to_end`), each atomic under the GIL, and it tolerates the entry being
replaced or dropped meanwhile (it then returns the value it read, as if it ran just before).

Values are kept in one of three forms (see docs/cache.md, "copy or share"):
  * immutable values (str, bytes, numbers, None, tuples/frozensets of those) are shared:
    handing the same object to every caller cannot be observed;
  * plain data (dicts, lists, tuples, sets of those and of immutable leaves) gets a copy plan
    (copier.py): each hit rebuilds the containers with C calls and shares the leaves;
  * anything else is kept as its pickle and unpickled on every hit.
Each caller of a mutable value gets its own copy, as with Django's own backends. Plain data is
first stored as its pickle too (the bytes written to L2 anyway); the plan is built on the
entry's first hit, so values that are never read twice don't pay for it.
"""

from __future__ import annotations

import pickle
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from decimal import Decimal
from time import monotonic
from typing import Any

from tecnocursos.cache import copier

MISSING: Any = object()
_ENTRY_OVERHEAD = 120  # bytes per entry beyond key and value: dict slot, entry tuple, index
_NEVER = float("inf")

_IMMUTABLE_SCALARS = (str, bytes, int, float, bool, complex, Decimal, type(None))
_unpickle = pickle.loads


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


def _first_hit(pickled: bytes) -> Any:
    # Marker only: an entry whose copy is this is upgraded to a plan by L1Cache._first_hit.
    return _unpickle(pickled)


# An entry is a tuple (read without a lock: replaced whole, never changed in place):
#   (stored, copy, expires, size, tags)
# stored: the value (copy None), its private plain-data copy (copy = its plan), or its pickle
# (copy = pickle.loads, or _first_hit until the first hit tried to make a plan).
_Entry = tuple[Any, Callable[[Any], Any] | None, float, int, tuple[str, ...]]


class L1Cache:
    """LRU + TTL. `ttl` arguments are seconds from now; None means no expiry."""

    def __init__(self, *, max_items: int = 1000, max_bytes: int = 100 * 1024 * 1024):
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._lookup = self._data.get
        self._to_end = self._data.move_to_end
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
        """The value (the caller's own copy if it is mutable), or MISSING."""
        entry = self._lookup(key)
        if entry is None:
            self.misses += 1
            return MISSING
        stored, copy, expires = entry[0], entry[1], entry[2]
        if expires <= monotonic():
            return self._expire(key, entry)
        try:
            self._to_end(key)
        except KeyError:  # dropped by another thread since the lookup: still a hit
            pass
        self.hits += 1
        if copy is None:
            return stored
        if copy is _first_hit:
            return self._first_hit(key, entry)
        return copy(stored)

    def peek_ttl(self, key: str) -> float | None | Any:
        """Seconds left (None: no expiry), or MISSING; no LRU or stats side effects."""
        entry = self._lookup(key)
        if entry is None:
            return MISSING
        if entry[2] == _NEVER:
            return None
        left = entry[2] - monotonic()
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
        """Store `value` (shared if immutable, else by its pickle: `pickled` when the caller has it).

        With `generation`, store only if no write or invalidation happened since it was read.
        """
        if ttl is not None and ttl <= 0:
            self.delete(key)
            return False
        if self.max_items <= 0:
            return False
        if is_shareable(value):
            stored, copy, size = value, None, shared_size(value)
        else:
            stored = pickled if pickled is not None else pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            copy, size = _first_hit, len(stored)
        size += len(key) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            self.delete(key)
            return False
        expires = _NEVER if ttl is None else monotonic() + ttl
        tags = tuple(tags)
        with self._lock:
            if generation is not None and generation != self.generation:
                return False
            if generation is None:
                self.generation += 1
            old = self._data.pop(key, None)
            if old is not None:
                self._unlink(key, old)
            self._data[key] = (stored, copy, expires, size, tags)
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
            expires = _NEVER if ttl is None else monotonic() + ttl
            self._data[key] = (*entry[:2], expires, *entry[3:])  # same place in the LRU order
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

    # -- off the hit path ------------------------------------------------------------------
    def _expire(self, key: str, entry: _Entry) -> Any:
        with self._lock:
            if self._data.get(key) is entry:
                self._drop(key, entry)
                self.expirations += 1
        self.misses += 1
        return MISSING

    def _first_hit(self, key: str, entry: _Entry) -> Any:
        """Unpickle for this caller, and replace the pickle by a copy plan when the value allows.

        Costs one plan walk (copier.py) on the first hit of a plain-data entry; the entry then
        holds live objects (a few times its pickle's size) and later hits copy them with C calls.
        """
        pickled = entry[0]
        value = _unpickle(pickled)
        try:
            copy, size = copier.plan(value)
        except copier.Unsupported:
            stored, copy, size = pickled, _unpickle, entry[3]
        else:
            # The caller gets `value`; L1 keeps its own copy (or shares an immutable value).
            stored = value if copy is None else copy(value)
            size += len(pickled) + len(key) + _ENTRY_OVERHEAD
        with self._lock:
            if self._data.get(key) is entry:
                self._data[key] = (stored, copy, entry[2], size, entry[4])
                self.bytes += size - entry[3]
                if size > entry[3]:
                    self._evict_over_limits()
        return value

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
        self.bytes -= entry[3]
        for tag in entry[4]:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]
