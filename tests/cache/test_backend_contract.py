"""Django's cache API against real Redis (the configured REDIS_URL)."""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches

from tecnocursos.cache.backend import HierarchicalCacheBackend
from tecnocursos.cache.l1 import MISSING


def l2_raw(cache: HierarchicalCacheBackend, key: str, version: int | None = None) -> bytes | None:
    return cache.engine.l2.client.get(cache.make_key(key, version))


def test_the_default_cache_is_the_hierarchical_backend():
    default = caches["default"]
    assert isinstance(default, HierarchicalCacheBackend)
    assert default.engine.l2 is not None


def test_set_get_and_default(cache):
    assert cache.get("missing") is None
    assert cache.get("missing", "fallback") == "fallback"
    cache.set("k", {"a": [1, 2]})
    assert cache.get("k") == {"a": [1, 2]}
    cache.set("none", None)
    assert cache.get("none", "fallback") is None
    assert cache.has_key("none")


def test_writes_go_through_to_redis(cache):
    cache.set("k", "v", 30)
    assert l2_raw(cache, "k") is not None
    ttl = cache.engine.l2.client.pttl(cache.make_key("k"))
    assert 25_000 < ttl <= 30_000


def test_timeouts_expire_in_both_tiers(cache):
    cache.set("short", "v", 0.3)
    cache.set("forever", "v", None)
    assert cache.get("short") == "v"
    time.sleep(0.45)
    assert cache.get("short") is None
    assert l2_raw(cache, "short") is None
    assert cache.get("forever") == "v"
    assert cache.engine.l2.client.pttl(cache.make_key("forever")) == -1


@pytest.mark.parametrize("timeout", [0, -1, -100])
def test_a_non_positive_timeout_stores_nothing(cache, timeout):
    cache.set("k", "old")
    cache.set("k", "new", timeout)
    assert cache.get("k") is None
    assert l2_raw(cache, "k") is None


def test_add_only_when_absent(cache):
    assert cache.add("k", 1) is True
    assert cache.add("k", 2) is False
    assert cache.get("k") == 1
    cache.engine.l1.clear()
    assert cache.add("k", 3) is False  # L2 is the truth, not this process's L1


def test_add_sees_keys_written_by_another_process(cache, make_cache):
    other = make_cache(namespace=cache.key_prefix, L1_MAX_ITEMS=5)
    other.set("k", "theirs")
    assert cache.add("k", "mine") is False
    assert cache.get("k") == "theirs"


def test_delete_and_delete_many(cache):
    cache.set_many({"a": 1, "b": 2, "c": 3})
    assert cache.delete("a") is True
    assert cache.delete("a") is False
    cache.delete_many(["b", "c"])
    assert cache.get_many(["a", "b", "c"]) == {}


def test_get_many_and_set_many(cache):
    assert cache.set_many({"a": 1, "b": [2], "c": None}, 30) == []
    cache.engine.l1.delete(cache.make_key("b"))
    assert cache.get_many(["a", "b", "c", "zzz"]) == {"a": 1, "b": [2], "c": None}


def test_incr_and_decr(cache):
    cache.set("n", 10, 30)
    assert cache.incr("n") == 11
    assert cache.incr("n", 5) == 16
    assert cache.decr("n", 6) == 10
    assert cache.get("n") == 10
    assert 25_000 < cache.engine.l2.client.pttl(cache.make_key("n")) <= 30_000  # TTL kept
    with pytest.raises(ValueError):
        cache.incr("absent")
    cache.set("text", "abc")
    with pytest.raises(ValueError):
        cache.incr("text")


def test_touch(cache):
    cache.set("k", "v", 0.3)
    assert cache.touch("k", 30) is True
    time.sleep(0.4)
    assert cache.get("k") == "v"
    cache.engine.l1.clear()
    assert cache.get("k") == "v"
    # The promoted copy got the new TTL from the value's header.
    assert 25 < cache.engine.l1.peek_ttl(cache.make_key("k")) <= 30
    assert cache.touch("absent", 10) is False
    assert cache.touch("k", None) is True
    assert cache.engine.l2.client.pttl(cache.make_key("k")) == -1
    assert cache.touch("k", 0) is True
    assert cache.get("k") is None


def test_has_key(cache):
    assert cache.has_key("k") is False
    cache.set("k", "v")
    assert cache.has_key("k") is True
    cache.engine.l1.clear()
    assert cache.has_key("k") is True


def test_versions_keep_keys_apart(cache):
    cache.set("k", "v1", version=1)
    cache.set("k", "v2", version=2)
    assert cache.get("k", version=1) == "v1"
    assert cache.get("k", version=2) == "v2"
    assert cache.incr_version("k", version=2) == 3
    assert cache.get("k", version=3) == "v2"


def test_get_or_set(cache):
    assert cache.get_or_set("k", lambda: "computed", 30) == "computed"
    assert cache.get_or_set("k", lambda: "again", 30) == "computed"


def test_clear_removes_only_this_namespace(cache, make_cache):
    neighbour = make_cache()
    cache.set("a", 1)
    cache.set("b", 2, tags=["t"])
    neighbour.set("a", "kept")
    client = cache.engine.l2.client
    client.set("tccache-foreign-key", "kept")
    try:
        cache.clear()
        assert cache.get("a") is None and cache.get("b") is None
        assert client.keys(f"{cache.key_prefix}:[^_]*") == []
        assert neighbour.get("a") == "kept"
        assert client.get("tccache-foreign-key") == b"kept"
    finally:
        client.delete("tccache-foreign-key")


def test_an_l2_hit_is_promoted_with_its_remaining_ttl(cache):
    cache.set("k", {"v": 1}, 20)
    cache.engine.l1.clear()
    hits_before = cache.engine.counts.l2_hits
    assert cache.get("k") == {"v": 1}
    assert cache.engine.counts.l2_hits == hits_before + 1
    assert cache.engine.counts.promotions == 1
    assert 15 < cache.engine.l1.peek_ttl(cache.make_key("k")) <= 20
    assert cache.get("k") == {"v": 1}
    assert cache.engine.counts.l2_hits == hits_before + 1  # served by L1 this time


def test_large_values_are_compressed_in_redis(cache):
    value = {"body": "the same sentence again and again. " * 1000}
    cache.set("big", value)
    raw = l2_raw(cache, "big")
    assert raw[0] == 2  # zstd
    assert len(raw) < 5000
    cache.engine.l1.clear()
    assert cache.get("big") == value


def test_long_keys_and_keys_with_spaces_are_hashed(cache):
    long_key = "x" * 1000
    cache.set(long_key, 1)
    cache.set("with space", 2)
    cache.set("tab\tand\nnewline", 3)
    assert cache.get(long_key) == 1 and cache.get("with space") == 2 and cache.get("tab\tand\nnewline") == 3
    assert len(cache.make_key(long_key)) < 150
    assert " " not in cache.make_key("with space")
    assert cache.make_key("with space") != cache.make_key("with_space")


def test_unpicklable_values_raise_a_type_error_and_store_nothing(cache):
    with pytest.raises(TypeError):
        cache.set("k", lambda: None)
    assert cache.get("k") is None


def test_a_corrupt_l2_entry_is_a_miss_and_is_deleted(cache):
    cache.set("k", "v")
    cache.engine.l1.clear()
    cache.engine.l2.client.set(cache.make_key("k"), b"\x02\x00\x00\x00\x00\x00\x00\x00\x00not zstd")
    assert cache.get("k", "default") == "default"
    assert l2_raw(cache, "k") is None
    assert cache.engine.counts.errors == 1
    cache.engine.l2.client.set(cache.make_key("j"), b"\x07garbage")
    assert cache.get_many(["j"]) == {}


def test_tags_must_be_strings(cache):
    with pytest.raises(TypeError):
        cache.set("k", 1, tags="not-a-list")
    with pytest.raises(TypeError):
        cache.set("k", 1, tags=[1])


def test_async_get(cache):
    import asyncio

    cache.set("k", "v")
    assert asyncio.run(cache.aget("k")) == "v"
    cache.engine.l1.clear()
    assert asyncio.run(cache.aget("k")) == "v"
    assert asyncio.run(cache.aget("absent", "d")) == "d"


def test_l1_only_without_a_location(make_cache):
    cache = make_cache(location=None)
    cache.set("k", "v")
    assert cache.get("k") == "v"
    assert cache.engine.l2 is None
    assert cache.health()["status"] == "ok"


def test_l1_misses_do_not_leak_a_sentinel(cache):
    assert cache.get("absent") is None
    assert cache.engine.get(cache.make_key("absent"), MISSING) is MISSING


def test_integers_are_promoted_with_their_remaining_ttl(cache):
    cache.set("n", 5, 20)
    cache.engine.l1.clear()
    assert cache.get("n") == 5
    assert 15 < cache.engine.l1.peek_ttl(cache.make_key("n")) <= 20


def test_shared_stats_keys_expire_when_no_process_refreshes_them(cache):
    from tecnocursos.cache.l2 import SNAPSHOTS_TTL_SECONDS, STATS_TTL_SECONDS

    cache.set("k", 1)
    cache.get("k")
    engine = cache.engine
    assert engine.flush_stats()
    client = engine.l2.client
    assert 0 < client.ttl(engine.stats_key) <= STATS_TTL_SECONDS
    assert 0 < client.ttl(engine.procs_key) <= SNAPSHOTS_TTL_SECONDS
