"""Cache fixtures: private backends on the configured Redis, each under its own namespace."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings

from tecnocursos.cache import backend as backend_module
from tecnocursos.cache.backend import HierarchicalCache


def new_namespace() -> str:
    return f"{settings.REDIS_PREFIX}:t{uuid.uuid4().hex[:10]}"


def drop_backend(cache: HierarchicalCache) -> None:
    cache.engine.clear()
    if cache.engine.l2 is not None:
        try:
            cache.engine.l2.client.delete(cache.engine.stats_key, cache.engine.procs_key)
        except Exception:
            pass  # Redis deliberately down in this test
    cache.engine.close()
    for ident, (engine, _) in list(backend_module._engines.items()):
        if engine is cache.engine:
            del backend_module._engines[ident]


@pytest.fixture
def make_cache() -> Iterator[Callable[..., HierarchicalCache]]:
    """`make_cache(location=..., namespace=..., **OPTIONS)` -> a HierarchicalCache of its own."""
    made: list[HierarchicalCache] = []

    def make(location: str | None = "", namespace: str | None = None, **options) -> HierarchicalCache:
        if location == "":
            location = settings.REDIS.redis_py
        params = {"KEY_PREFIX": namespace or new_namespace(), "OPTIONS": options}
        cache = HierarchicalCache(location, params)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        drop_backend(cache)


@pytest.fixture
def cache(make_cache) -> HierarchicalCache:
    return make_cache()
