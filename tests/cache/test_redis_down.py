"""Redis unreachable: the cache serves from L1, reports it, and recovers by itself."""

from __future__ import annotations

import redis

from tests.cache.conftest import wait_until
from tests.conftest import free_port


def test_a_cache_pointed_at_a_dead_port_serves_from_l1(make_cache):
    cache = make_cache(location=f"redis://127.0.0.1:{free_port()}/0", SOCKET_TIMEOUT=0.2)
    cache.set("k", {"v": 1}, 60)
    assert cache.get("k") == {"v": 1}
    assert cache.add("k", 2) is False
    assert cache.add("new", 2) is True
    assert cache.get_many(["k", "new", "absent"]) == {"k": {"v": 1}, "new": 2}
    cache.set("n", 1)
    assert cache.incr("n") == 2
    assert cache.has_key("n")
    assert cache.touch("n", 30)
    assert cache.delete("n") is True
    assert cache.get("absent", "d") == "d"
    assert cache.invalidate_tags(["t"]) == 0
    cache.clear()
    assert cache.get("k") is None
    health = cache.health()
    assert health["status"] == "degraded" and health["l2"] == "down"
    assert cache.engine.counters()["errors"] >= 1


def test_it_keeps_serving_l1_when_redis_dies_and_recovers_when_it_returns(make_cache, private_redis):
    cache = make_cache(location=private_redis.url, SOCKET_TIMEOUT=0.2, RETRY_SECONDS=0.2)
    cache.set("k", "v", 60)
    assert cache.health()["status"] == "ok"
    private_redis.stop()
    assert cache.get("k") == "v"
    cache.set("during", "outage", 60)
    assert cache.get("during") == "outage"
    assert wait_until(lambda: cache.health()["status"] == "degraded")
    assert cache.get("k") == "v"  # still served after the outage is noticed
    private_redis.start()
    assert wait_until(lambda: cache.health()["status"] == "ok", timeout=10)
    cache.set("after", "back", 60)
    assert redis.Redis.from_url(private_redis.url).get(cache.make_key("after")) is not None


def test_changes_made_during_an_outage_are_replayed_to_redis(make_cache, private_redis):
    cache = make_cache(location=private_redis.url, SOCKET_TIMEOUT=0.2, RETRY_SECONDS=0.2)
    raw = redis.Redis.from_url(private_redis.url)
    cache.set("k", "old", 60)
    cache.set("gone", "old", 60)
    private_redis.pause()  # the data survives, only the answers stop
    cache.set("k", "new", 60)
    cache.delete("gone")
    assert cache.get("k") == "new"
    private_redis.resume()
    # Once Redis answers again, L2 must not keep the values replaced during the outage.
    assert wait_until(lambda: (cache.get("probe"), raw.get(cache.make_key("k")))[1] is None, timeout=10)
    assert raw.get(cache.make_key("gone")) is None
