from __future__ import annotations


def test_invalidating_a_tag_drops_its_entries_in_both_tiers(cache):
    cache.set("a", 1, 60, tags=["courses"])
    cache.set("b", 2, 60, tags=["courses", "course:7"])
    cache.set("c", 3, 60, tags=["uploads"])
    cache.set("d", 4, 60)
    assert cache.invalidate_tags(["courses"]) == 2
    assert cache.get_many(["a", "b", "c", "d"]) == {"c": 3, "d": 4}
    client = cache.engine.l2.client
    assert client.get(cache.make_key("a")) is None
    assert client.exists(f"{cache.key_prefix}:_tag:courses") == 0


def test_promoted_entries_are_dropped_too(cache, make_cache):
    other = make_cache(namespace=cache.key_prefix)
    other.set("k", "v", 60, tags=["t"])
    assert cache.get("k") == "v"  # promoted here without knowing its tags
    cache.invalidate_tags(["t"])
    assert cache.get("k") is None


def test_a_tag_set_lives_as_long_as_its_longest_member(cache):
    client = cache.engine.l2.client
    tag_key = f"{cache.key_prefix}:_tag:t"
    cache.set("short", 1, 10, tags=["t"])
    assert 0 < client.pttl(tag_key) <= 10_000
    cache.set("long", 1, 100, tags=["t"])
    assert 10_000 < client.pttl(tag_key) <= 100_000
    cache.set("shorter", 1, 5, tags=["t"])
    assert client.pttl(tag_key) > 10_000
    cache.set("forever", 1, None, tags=["t"])
    assert client.pttl(tag_key) == -1


def test_add_and_set_many_take_tags(cache):
    cache.add("a", 1, 60, tags=["t"])
    cache.set_many({"b": 2, "c": 3}, 60, tags=["t"])
    assert cache.invalidate_tags(["t"]) == 3
    assert cache.get_many(["a", "b", "c"]) == {}


def test_unknown_tags_invalidate_nothing(cache):
    cache.set("a", 1, 60, tags=["t"])
    assert cache.invalidate_tags(["nope"]) == 0
    assert cache.invalidate_tags([]) == 0
    assert cache.get("a") == 1
