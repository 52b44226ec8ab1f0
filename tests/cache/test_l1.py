from __future__ import annotations

import time

from tecnocursos.cache.l1 import MISSING, L1Cache


def test_it_evicts_the_least_recently_used_beyond_max_items():
    l1 = L1Cache(max_items=3)
    for key in "abc":
        l1.set(key, key, None)
    assert l1.get("a") == "a"  # a is now the most recent
    l1.set("d", "d", None)
    assert l1.get("b") is MISSING
    assert [l1.get(k) for k in "acd"] == ["a", "c", "d"]
    assert l1.evictions == 1
    assert len(l1) == 3


def test_it_evicts_beyond_max_bytes():
    l1 = L1Cache(max_items=1000, max_bytes=10_000)
    for i in range(10):
        l1.set(f"k{i}", "x" * 2000, None)
    assert l1.bytes <= 10_000
    assert len(l1) < 10
    assert l1.get("k9") == "x" * 2000
    assert l1.get("k0") is MISSING


def test_it_refuses_a_value_larger_than_max_bytes():
    l1 = L1Cache(max_bytes=1000)
    l1.set("small", "s", None)
    assert l1.set("big", "x" * 5000, None) is False
    assert l1.get("big") is MISSING
    assert l1.get("small") == "s"


def test_it_honours_ttl():
    l1 = L1Cache()
    l1.set("short", 1, 0.05)
    l1.set("long", 2, 60)
    assert l1.get("short") == 1
    time.sleep(0.08)
    assert l1.get("short") is MISSING
    assert l1.get("long") == 2
    assert l1.set("now", 3, 0) is False
    assert l1.get("now") is MISSING


def test_it_hands_out_copies_of_mutable_values():
    l1 = L1Cache()
    original = {"a": [1, 2]}
    l1.set("k", original, None)
    original["a"].append(3)
    first = l1.get("k")
    first["a"].append(99)
    assert l1.get("k") == {"a": [1, 2]}
    assert l1.get("k") is not l1.get("k")


def test_it_shares_immutable_values():
    l1 = L1Cache()
    value = ("a", 1, frozenset({2}))
    l1.set("k", value, None)
    assert l1.get("k") is value


def test_a_promotion_read_before_a_write_is_dropped():
    l1 = L1Cache()
    generation = l1.generation
    l1.set("k", "new", None)  # a write lands between the L2 read and the promotion
    assert l1.set("k", "old", None, generation=generation) is False
    assert l1.get("k") == "new"


def test_tags_drop_their_entries():
    l1 = L1Cache()
    l1.set("a", 1, None, tags=["t"])
    l1.set("b", 2, None, tags=["t", "u"])
    l1.set("c", 3, None, tags=["u"])
    assert l1.invalidate_tags(["t"]) == 2
    assert l1.get("a") is MISSING and l1.get("b") is MISSING
    assert l1.get("c") == 3
