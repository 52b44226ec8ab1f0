"""Hot-path shortcuts keep the plain behaviour: the backend's full-key memo, @cached's keys."""

from __future__ import annotations

import pytest

from tecnocursos.cache import backend as backend_module


def test_get_remembers_full_keys_without_mixing_versions_or_types(make_cache):
    cache = make_cache(location=None)
    cache.set("k", "v1")
    cache.set("k", "v2", version=2)
    cache.set(1, "int one")
    assert cache.get("k") == "v1"
    assert cache.get("k", version=2) == "v2"
    assert cache.get("k") == "v1"  # memoised now
    assert cache.get(1) == cache.get("1") == "int one"  # Django's keys: str(key)
    assert cache.get(True) is None
    assert cache._full_keys == {"k": cache.make_key("k"), "1": cache.make_key("1")}
    long_key = "x " * 200
    cache.set(long_key, "hashed")
    assert cache.get(long_key) == "hashed"
    assert cache._full_keys[long_key] == cache.make_key(long_key)


def test_the_full_key_memo_is_bounded(make_cache, monkeypatch):
    monkeypatch.setattr(backend_module, "_KEY_MEMO_SIZE", 10)
    cache = make_cache(location=None)
    for i in range(25):
        cache.get(f"k{i}")
        assert len(cache._full_keys) <= 10


# -- @cached ------------------------------------------------------------------------------
def test_decorator_keys_are_stable_and_memoised(default_cache):
    from tecnocursos.cache.decorators import cached
    from tecnocursos.cache.keys import safe_key

    @cached(ttl_seconds=60)
    def pair(a, b=0):
        return [a, b]

    assert pair(1, "x") == [1, "x"]
    name = f"{pair.__module__}.{pair.__qualname__}"
    prefix = f"{default_cache.key_prefix}:{default_cache.version}:cached:"
    assert pair.cache_key(1, "x") == safe_key(f"{prefix}{name}:(1, 'x')")  # the format keys always had
    assert pair.cache_key(1, b="x") == safe_key(f"{prefix}{name}:(1,)[('b', 'x')]")
    assert default_cache.engine.get(pair.cache_key(1, "x"))[0] == [1, "x"]


def test_equal_arguments_of_different_types_get_different_entries(default_cache):
    from tecnocursos.cache.decorators import cached

    seen = []

    @cached(ttl_seconds=60)
    def kind(x):
        seen.append(x)
        return type(x).__name__

    assert [kind(1), kind(True), kind(1.0), kind("1"), kind(1), kind(True)] == [
        "int", "bool", "float", "str", "int", "bool"
    ]
    assert len(seen) == 4


def test_hits_near_expiry_still_draw_for_early_refresh(default_cache, monkeypatch):
    import random
    import time

    from tecnocursos.cache.decorators import cached

    computed = []

    @cached(ttl_seconds=600)
    def value(x):
        computed.append(x)
        return len(computed)

    assert value(1) == 1
    key = value.cache_key(1)
    monkeypatch.setattr(random, "random", lambda: 2.0**-53)  # the rarest draw random() can make
    # 30 compute times from expiry: that draw refreshes (-log(2**-53) = 36.7 > 30)...
    default_cache.engine.set(key, ("old", 1.0, time.time() + 30), 600)
    assert value(1) == 2
    # ...40 compute times away no draw can: the hit skips the draw and serves the value.
    default_cache.engine.set(key, ("old", 1.0, time.time() + 40), 600)
    assert value(1) == "old"
    assert computed == [1, 1]


# -- L2 hits ------------------------------------------------------------------------------------
def test_an_l2_hit_is_exactly_one_get(make_cache, monkeypatch):
    import threading

    from redis.connection import AbstractConnection

    cache = make_cache(L1_MAX_ITEMS=0)
    if cache.engine.l2 is None:
        pytest.skip("no Redis configured")
    values = {"small": {"a": [1]}, "big": "x" * 5000, "count": 5}
    for key, value in values.items():
        cache.set(key, value, 60)
    sent: list = []
    me = threading.get_ident()
    original = AbstractConnection.send_command

    def spy(self, *args, **kwargs):
        if threading.get_ident() == me:
            sent.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_command", spy)
    for key, value in values.items():
        assert cache.get(key) == value
    assert sent == ["GET", "GET", "GET"]  # no PTTL, no Lua, no stats per hit (L1 off: no promotion)
    assert cache.engine.counts.l2_hits == 3
