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
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from time import time
from typing import Any

from django.core.cache import caches

from tecnocursos.cache.keys import safe_key
from tecnocursos.cache.l1 import MISSING

_bypass: contextvars.ContextVar[bool] = contextvars.ContextVar("tecnocursos_cache_bypass", default=False)


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
        if not hasattr(backend, "stampede"):
            raise TypeError(f"@cached needs the HierarchicalCacheBackend; {alias!r} is {type(backend).__name__}")
        self.backend = backend
        self.stampede = backend.stampede
        self.engine = backend.stampede.engine
        self.prefix = f"{backend.key_prefix}:{backend.version}:cached:"
        # An envelope further from expiry than this many compute times can't be due for early
        # refresh: should_refresh() needs -beta*log(random()) >= the gap, and random() >= 2**-53
        # (or 0, read as 1e-12) bounds -log(random()) by 36.8. Such hits skip random() and log().
        self.refresh_window = 37.0 * self.stampede.beta


_KEY_MEMO_SIZE = 4096  # per decorated function: full keys by the repr of the arguments


def cached(
    ttl_seconds: float | None = 300,
    tags: Sequence[str] = (),
    key: str | Callable[..., Any] | None = None,
    cache_alias: str = "default",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if isinstance(tags, str):
        raise TypeError("tags must be a list of strings")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        name = f"{fn.__module__}.{fn.__qualname__}"
        own_tag = f"fn:{name}"
        signature = inspect.signature(fn)
        static_tags = tuple(t for t in tags if "{" not in t) + (own_tag,)
        templated_tags = tuple(t for t in tags if "{" in t)
        binding: list[_Binding] = []
        full_keys: dict[str, str] = {}  # repr(args) -> full key, for calls without kwargs and key=None

        def bound() -> _Binding:
            if not binding:
                binding.append(_Binding(cache_alias))
            return binding[0]

        def arguments(args: tuple, kwargs: dict) -> dict[str, Any]:
            call = signature.bind(*args, **kwargs)
            call.apply_defaults()
            return call.arguments

        def full_key(suffix: str) -> str:
            full = safe_key(f"{bound().prefix}{name}:{suffix}")
            if key is None:
                if len(full_keys) >= _KEY_MEMO_SIZE:
                    full_keys.clear()
                full_keys[suffix] = full
            return full

        def cache_key(*args: Any, **kwargs: Any) -> str:
            if key is None:
                suffix = repr(args) if not kwargs else f"{args!r}{sorted(kwargs.items())!r}"
                return full_keys.get(suffix) or full_key(suffix)
            if callable(key):
                return full_key(str(key(*args, **kwargs)))
            return full_key(key.format(**arguments(args, kwargs)))

        def tags_for(args: tuple, kwargs: dict) -> tuple[str, ...]:
            if not templated_tags:
                return static_tags
            values = arguments(args, kwargs)
            return static_tags + tuple(t.format(**values) for t in templated_tags)

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                if _bypass.get():
                    return await fn(*args, **kwargs)
                b = binding[0] if binding else bound()
                if key is None and not kwargs:
                    full = full_keys.get(repr(args)) or full_key(repr(args))
                else:
                    full = cache_key(*args, **kwargs)
                envelope = b.engine.l1.get(full)  # memory only: no need to leave the loop
                if envelope is not MISSING:
                    expires_at = envelope[2]
                    if expires_at is None or expires_at - time() > envelope[1] * b.refresh_window:
                        return envelope[0]
                return await b.stampede.aget_or_compute(
                    full, lambda: fn(*args, **kwargs), ttl_seconds, tags_for(args, kwargs), envelope=envelope
                )

            async def refresh(*args: Any, **kwargs: Any) -> Any:
                value = await fn(*args, **kwargs)
                _store(bound(), cache_key(*args, **kwargs), value, ttl_seconds, tags_for(args, kwargs))
                return value

        else:

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                # The hit path: one contextvar read, repr(args) and a dict lookup for the key,
                # one engine get, two float operations. Everything else is on the miss path.
                if _bypass.get():
                    return fn(*args, **kwargs)
                b = binding[0] if binding else bound()
                if key is None and not kwargs:
                    full = full_keys.get(repr(args)) or full_key(repr(args))
                else:
                    full = cache_key(*args, **kwargs)
                envelope = b.engine.get(full, MISSING)
                if envelope is not MISSING:
                    expires_at = envelope[2]
                    if expires_at is None or expires_at - time() > envelope[1] * b.refresh_window:
                        return envelope[0]
                return b.stampede.get_or_compute(
                    full, lambda: fn(*args, **kwargs), ttl_seconds, tags_for(args, kwargs), envelope=envelope
                )

            def refresh(*args: Any, **kwargs: Any) -> Any:
                value = fn(*args, **kwargs)
                _store(bound(), cache_key(*args, **kwargs), value, ttl_seconds, tags_for(args, kwargs))
                return value

        def invalidate(*args: Any, **kwargs: Any) -> bool:
            return bound().stampede.engine.delete(cache_key(*args, **kwargs))

        def invalidate_all() -> int:
            return bound().stampede.engine.invalidate_tags([own_tag])

        wrapper.cache_key = cache_key  # type: ignore[attr-defined]
        wrapper.invalidate = invalidate  # type: ignore[attr-defined]
        wrapper.invalidate_all = invalidate_all  # type: ignore[attr-defined]
        wrapper.refresh = refresh  # type: ignore[attr-defined]
        wrapper.uncached = fn  # type: ignore[attr-defined]
        wrapper.cache_tag = own_tag  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _store(binding: _Binding, key: str, value: Any, ttl: float | None, tags: Sequence[str]) -> None:
    # The same envelope Stampede writes: (value, compute seconds unknown here, expiry).
    expires_at = None if ttl is None else time() + ttl
    binding.stampede.engine.set(key, (value, 0.0, expires_at), ttl, tags)
