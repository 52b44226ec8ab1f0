"""Hot-path shortcuts keep the plain behaviour: the backend's full-key memo, @cached's keys."""

from __future__ import annotations

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
