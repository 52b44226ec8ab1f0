"""The Django cache backend: `django.core.cache` on top of the tiered engine.

    CACHES = {"default": {
        "BACKEND": "tecnocursos.cache.backend.HierarchicalCacheBackend",
        "LOCATION": "redis://127.0.0.1:6379/0",     # empty: L1 only
        "KEY_PREFIX": "tc:cache",                     # namespace of every key, tag, lock, stat
        "OPTIONS": {"L1_MAX_ITEMS": 1000, "L1_MAX_BYTES": 100 * 2**20, "COMPRESSOR": "zstd", ...},
    }}

Django creates one backend object per thread; they all share one engine (one L1, one
connection pool, one coherence listener) per LOCATION + KEY_PREFIX + OPTIONS.
Beyond Django's API: `tags=` on set/add/set_many, `invalidate_tags`, `get_or_compute`
(stampede-protected), `stats`, `health`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache, default_key_func
from django.core.exceptions import ImproperlyConfigured

from tecnocursos.cache.keys import safe_key
from tecnocursos.cache.l1 import MISSING
from tecnocursos.cache.stampede import Stampede
from tecnocursos.cache.tiered import TieredCacheEngine

_OPTIONS = {
    "L1_MAX_ITEMS": ("l1_max_items", int),
    "L1_MAX_BYTES": ("l1_max_bytes", int),
    "L1_MAX_TTL": ("l1_max_ttl", float),
    "COMPRESSOR": ("compressor", str),
    "COMPRESS_MIN_BYTES": ("min_compress_bytes", int),
    "SOCKET_TIMEOUT": ("socket_timeout", float),
    "RETRY_SECONDS": ("retry_seconds", float),
    "STATS_INTERVAL": ("stats_interval", float),
}
_STAMPEDE_OPTIONS = {"LOCK_TIMEOUT": ("lock_timeout", float), "EARLY_REFRESH_BETA": ("beta", float)}
_engines: dict[str, tuple[TieredCacheEngine, Stampede]] = {}
_KEY_MEMO_SIZE = 4096  # full keys remembered per backend object for get() (cleared when full)
_engines_lock = threading.Lock()


def _parse_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    unknown = set(options) - set(_OPTIONS) - set(_STAMPEDE_OPTIONS)
    if unknown:
        raise ImproperlyConfigured(f"unknown HierarchicalCacheBackend OPTIONS: {sorted(unknown)}")
    engine_kwargs: dict[str, Any] = {}
    stampede_kwargs: dict[str, Any] = {}
    for table, target in ((_OPTIONS, engine_kwargs), (_STAMPEDE_OPTIONS, stampede_kwargs)):
        for name, (kwarg, kind) in table.items():
            if name in options:
                try:
                    target[kwarg] = kind(options[name])
                except (TypeError, ValueError):
                    raise ImproperlyConfigured(f"cache option {name} must be {kind.__name__}") from None
    return engine_kwargs, stampede_kwargs


def shared_engine(location: str | None, namespace: str, options: dict[str, Any]) -> tuple[TieredCacheEngine, Stampede]:
    engine_kwargs, stampede_kwargs = _parse_options(options)
    ident = json.dumps([location, namespace, engine_kwargs, stampede_kwargs], sort_keys=True)
    with _engines_lock:
        pair = _engines.get(ident)
        if pair is None:
            try:
                engine = TieredCacheEngine(location or None, namespace=namespace, **engine_kwargs)
            except ValueError as exc:  # e.g. an unknown compressor
                raise ImproperlyConfigured(str(exc)) from None
            pair = _engines[ident] = (engine, Stampede(engine, **stampede_kwargs))
    return pair


class HierarchicalCacheBackend(BaseCache):
    def __init__(self, server: str | Sequence[str] | None, params: dict[str, Any]):
        super().__init__(params)
        if server is not None and not isinstance(server, str):  # a LOCATION list: its first server
            server = server[0] if server else None
        # A namespace is required: clear() deletes by prefix, never the whole Redis database.
        self.key_prefix = self.key_prefix or "cache"
        self.engine, self.stampede = shared_engine(server, self.key_prefix, params.get("OPTIONS", {}))
        self._default_key_func = self.key_func is default_key_func
        # get() is the hot path: remember the full key of recent str keys (current version only).
        self._full_keys: dict[str, str] = {}

    # -- keys ----------------------------------------------------------------------------------
    def make_key(self, key: Any, version: int | None = None) -> str:
        if version is None:
            version = self.version
        if self._default_key_func:
            return safe_key(f"{self.key_prefix}:{version}:{key}")
        return safe_key(str(self.key_func(key, self.key_prefix, version)))

    def _full_key(self, key: str) -> str:
        full = self.make_key(key)
        if len(self._full_keys) >= _KEY_MEMO_SIZE:
            self._full_keys.clear()
        self._full_keys[key] = full
        return full

    def make_and_validate_key(self, key: Any, version: int | None = None) -> str:
        return self.make_key(key, version)  # unsafe keys are hashed, not warned about

    def validate_key(self, key: Any) -> None:
        return None

    def _ttl(self, timeout: Any) -> float | None:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else float(timeout)

    # -- Django's API ----------------------------------------------------------------------------
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        if version is None and type(key) is str:  # exact str: 1 and True must not share a memo slot
            full = self._full_keys.get(key) or self._full_key(key)
        else:
            full = self.make_key(key, version)
        return self.engine.get(full, default)

    async def aget(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        if version is None and type(key) is str:
            full = self._full_keys.get(key) or self._full_key(key)
        else:
            full = self.make_key(key, version)
        value = self.engine.l1.get(full)  # memory only: answer without leaving the event loop
        if value is not MISSING:
            return value
        return await asyncio.to_thread(self.engine.get, full, default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None,
        tags: Sequence[str] = (),
    ) -> None:
        self.engine.set(self.make_key(key, version), value, self._ttl(timeout), _tags(tags))

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None,
        tags: Sequence[str] = (),
    ) -> bool:
        return self.engine.add(self.make_key(key, version), value, self._ttl(timeout), _tags(tags))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        by_full = {self.make_key(key, version): key for key in keys}
        found = self.engine.get_many(by_full)
        return {by_full[full]: value for full, value in found.items()}

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None,
        tags: Sequence[str] = (),
    ) -> list[Any]:
        mapping = {self.make_key(key, version): value for key, value in data.items()}
        self.engine.set_many(mapping, self._ttl(timeout), _tags(tags))
        return []

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self.engine.delete(self.make_key(key, version))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self.engine.delete_many([self.make_key(key, version) for key in keys])

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self.engine.touch(self.make_key(key, version), self._ttl(timeout))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        full = self.make_key(key, version)
        try:
            return self.engine.incr(full, delta)
        except ValueError:
            raise ValueError(f"Key '{key}' not found") from None

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self.engine.has_key(self.make_key(key, version))

    def clear(self) -> None:
        self.engine.clear()

    def close(self, **kwargs: Any) -> None:
        # Django calls this after every request; the shared engine lives as long as the process.
        return None

    # -- beyond Django --------------------------------------------------------------------------
    def invalidate_tags(self, tags: Iterable[str]) -> int:
        return self.engine.invalidate_tags(_tags(tags))

    def get_or_compute(
        self, key: Any, compute: Callable[[], Any], timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None, tags: Sequence[str] = (),
    ) -> Any:
        """Like get_or_set, but concurrent misses compute once (here and in other processes)."""
        return self.stampede.get_or_compute(self.make_key(key, version), compute, self._ttl(timeout), _tags(tags))

    async def aget_or_compute(
        self, key: Any, compute: Callable[[], Awaitable[Any]], timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None, tags: Sequence[str] = (),
    ) -> Any:
        return await self.stampede.aget_or_compute(
            self.make_key(key, version), compute, self._ttl(timeout), _tags(tags)
        )

    def health(self) -> dict[str, Any]:
        return self.engine.health()


def _tags(tags: Iterable[str]) -> tuple[str, ...]:
    if isinstance(tags, str):
        raise TypeError("tags must be a list of strings, not a string")
    tags = tuple(tags)
    for tag in tags:
        if not isinstance(tag, str) or not tag:
            raise TypeError(f"tags must be non-empty strings, got {tag!r}")
    return tags
