"""`@cached`: memoize a function (sync or async) in the default cache, stampede-protected.

    @cached(ttl_seconds=60, tags=["courses", "course:{course_id}"], key="course:{course_id}")
    def course_summary(course_id: int) -> dict: ...

    course_summary(3)                      # cached; concurrent misses compute once
    course_summary.invalidate(3)           # drop the entry for these arguments
    course_summary.invalidate_all()        # every entry of the function (its own tag)
    course_summary.refresh(3)              # recompute now and store
    course_summary.uncached(3)             # call the function itself
    with cache_bypass(): course_summary(3) # neither read nor write the cache (sync or async)

`key`: a format string over the arguments by name, a callable taking the arguments, or None
(the repr of the arguments: fine for str/int/tuple arguments; pass `key` for objects whose
repr includes their address). Tags may be format strings over the arguments too.

The decorator returns a `CachedFunction` or, for a coroutine function, an
`AsyncCachedFunction`: two small classes over one core (`_CachedCore`) that holds the keys,
the tags and the backend binding; each adds only its own call and refresh.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import types
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from time import time
from typing import Any

from asgiref.sync import markcoroutinefunction
from django.core.cache import caches

from tecnocursos.cache.keys import safe_key
from tecnocursos.cache.l1 import MISSING
from tecnocursos.cache.stampede import Stampede
from tecnocursos.cache.tiered import TieredCacheEngine

_bypass: contextvars.ContextVar[bool] = contextvars.ContextVar("tecnocursos_cache_bypass", default=False)
_KEY_MEMO_SIZE = 4096  # per decorated function: full keys by the repr of the arguments

KeySpec = str | Callable[..., Any] | None


@contextmanager
def cache_bypass() -> Iterator[None]:
    """Inside this block @cached functions run their body and leave the cache alone."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


class _Binding:
    """What a decorated function needs from the backend, looked up once (it is shared)."""

    def __init__(self, alias: str):
        backend = caches[alias]
        stampede = getattr(backend, "stampede", None)
        if not isinstance(stampede, Stampede):
            raise TypeError(f"@cached needs the HierarchicalCacheBackend; {alias!r} is {type(backend).__name__}")
        self.stampede = stampede
        self.engine: TieredCacheEngine = stampede.engine
        self.prefix = f"{backend.key_prefix}:{backend.version}:cached:"
        # An envelope further from expiry than this many compute times can't be due for early
        # refresh: should_refresh() needs -beta*log(random()) >= the gap, and random() >= 2**-53
        # (or 0, read as 1e-12) bounds -log(random()) by 36.8. Such hits skip random() and log().
        self.refresh_window = 37.0 * stampede.beta


class _CachedCore:
    """Keys, tags and the backend binding of one decorated function; no call of its own."""

    def __init__(self, fn: Callable[..., Any], ttl_seconds: float | None, tags: Sequence[str], key: KeySpec,
                 cache_alias: str):
        functools.update_wrapper(self, fn)
        self.uncached = fn
        self.ttl_seconds = ttl_seconds
        self._key = key
        self._alias = cache_alias
        self._name = f"{fn.__module__}.{fn.__qualname__}"
        self.cache_tag = f"fn:{self._name}"
        self._signature = inspect.signature(fn)
        self._static_tags = (*(t for t in tags if "{" not in t), self.cache_tag)
        self._templated_tags = tuple(t for t in tags if "{" in t)
        self._binding: _Binding | None = None
        self._full_keys: dict[str, str] = {}  # repr(args) -> full key, for calls without kwargs and key=None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # CachedFunction and AsyncCachedFunction call

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        # Decorating a method: bind like a function does (attributes stay reachable on the method).
        return self if instance is None else types.MethodType(self, instance)

    @property
    def binding(self) -> _Binding:
        if self._binding is None:
            self._binding = _Binding(self._alias)
        return self._binding

    def cache_key(self, *args: Any, **kwargs: Any) -> str:
        if self._key is None:
            suffix = repr(args) if not kwargs else f"{args!r}{sorted(kwargs.items())!r}"
            return self._full_keys.get(suffix) or self._remember_key(suffix)
        if callable(self._key):
            return self._remember_key(str(self._key(*args, **kwargs)))
        return self._remember_key(self._key.format(**self._arguments(args, kwargs)))

    def invalidate(self, *args: Any, **kwargs: Any) -> bool:
        return self.binding.engine.delete(self.cache_key(*args, **kwargs))

    def invalidate_all(self) -> int:
        return self.binding.engine.invalidate_tags([self.cache_tag])

    # -- shared by the sync and async calls -------------------------------------------------
    def _call_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        # The hit path's key: repr(args) and a dict lookup when the arguments are positional.
        if self._key is None and not kwargs:
            return self._full_keys.get(repr(args)) or self._remember_key(repr(args))
        return self.cache_key(*args, **kwargs)

    def _tags_for(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, ...]:
        if not self._templated_tags:
            return self._static_tags
        values = self._arguments(args, kwargs)
        return self._static_tags + tuple(t.format(**values) for t in self._templated_tags)

    def _remember_key(self, suffix: str) -> str:
        full = safe_key(f"{self.binding.prefix}{self._name}:{suffix}")
        if self._key is None:
            if len(self._full_keys) >= _KEY_MEMO_SIZE:
                self._full_keys.clear()
            self._full_keys[suffix] = full
        return full

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        call = self._signature.bind(*args, **kwargs)
        call.apply_defaults()
        return call.arguments

    @staticmethod
    def _fresh(envelope: Any, binding: _Binding) -> bool:
        """A hit far enough from expiry to return without considering an early refresh."""
        expires_at = envelope[2]
        return expires_at is None or expires_at - time() > envelope[1] * binding.refresh_window

    def _store(self, key: str, value: Any, tags: Sequence[str]) -> None:
        # The same envelope Stampede writes: (value, compute seconds unknown here, expiry).
        ttl = self.ttl_seconds
        self.binding.engine.set(key, (value, 0.0, None if ttl is None else time() + ttl), ttl, tags)


class CachedFunction(_CachedCore):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The hit path, inlined (it is measured in bench/cache_bench.py): one contextvar read,
        # repr(args) and a dict lookup for the key, one engine get, two float operations.
        if _bypass.get():
            return self.uncached(*args, **kwargs)
        binding = self._binding or self.binding
        full = (self._full_keys.get(repr(args)) if self._key is None and not kwargs else None) \
            or self._call_key(args, kwargs)
        envelope = binding.engine.get(full, MISSING)
        if envelope is not MISSING and (
            (expires_at := envelope[2]) is None or expires_at - time() > envelope[1] * binding.refresh_window
        ):
            return envelope[0]
        return binding.stampede.get_or_compute(
            full, lambda: self.uncached(*args, **kwargs), self.ttl_seconds, self._tags_for(args, kwargs),
            envelope=envelope,
        )

    def refresh(self, *args: Any, **kwargs: Any) -> Any:
        value = self.uncached(*args, **kwargs)
        self._store(self.cache_key(*args, **kwargs), value, self._tags_for(args, kwargs))
        return value


class AsyncCachedFunction(_CachedCore):
    uncached: Callable[..., Awaitable[Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        markcoroutinefunction(self)  # asgiref's (Django's) iscoroutinefunction() says True, as for the function

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _bypass.get():
            return await self.uncached(*args, **kwargs)
        binding = self._binding or self.binding
        full = self._call_key(args, kwargs)
        envelope = binding.engine.l1.get(full)  # memory only: no need to leave the loop
        if envelope is not MISSING and self._fresh(envelope, binding):
            return envelope[0]
        return await binding.stampede.aget_or_compute(
            full, lambda: self.uncached(*args, **kwargs), self.ttl_seconds, self._tags_for(args, kwargs),
            envelope=envelope,
        )

    async def refresh(self, *args: Any, **kwargs: Any) -> Any:
        value = await self.uncached(*args, **kwargs)
        self._store(self.cache_key(*args, **kwargs), value, self._tags_for(args, kwargs))
        return value


def cached(
    ttl_seconds: float | None = 300,
    tags: Sequence[str] = (),
    key: KeySpec = None,
    cache_alias: str = "default",
) -> Callable[[Callable[..., Any]], CachedFunction | AsyncCachedFunction]:
    if isinstance(tags, str):
        raise TypeError("tags must be a list of strings")

    def decorate(fn: Callable[..., Any]) -> CachedFunction | AsyncCachedFunction:
        kind = AsyncCachedFunction if inspect.iscoroutinefunction(fn) else CachedFunction
        return kind(fn, ttl_seconds, tags, key, cache_alias)

    return decorate
