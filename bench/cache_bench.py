"""Cache benchmark: the hierarchical cache against baselines measured in the same run.

    .venv/bin/python bench/cache_bench.py        # REDIS_URL, or the embedded Redis under var/

Same keys and values for every contender: a small dict, a ~10 KB dict and a ~10 KB str.
  * L1 hit: HierarchicalCacheBackend.get vs Django's LocMemCache.get vs cachetools.LRUCache[key]
  * L2 hit (L1 disabled): HierarchicalCacheBackend.get vs raw redis-py GET vs django-redis get.
    Two raw baselines, both on the very redis.Redis client our L2 tier uses (same pool,
    options and parser, hiredis when installed): "bare GET" fetches our stored bytes and
    stops; "GET+decode" also does what any client must to get the value back: decompress
    (a reused zstd/zlib context, when ours compressed it) and pickle.loads the same payload.
    The goal (within 1.15x of raw) is measured against GET+decode.
  * @cached hit overhead over a bare L1 get
  * hit rate on a Zipf workload (L1 of 1000 items over 20,000 keys)
Contenders of one row run in interleaved rounds (A B C, B C A, ...) and each figure is the best
round: on a shared, noisy machine that is the figure least disturbed by other work.
"""

from __future__ import annotations

import os
import pickle
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    USE_TZ=True,
)
django.setup()

import zlib  # noqa: E402

import cachetools  # noqa: E402
import redis  # noqa: E402
import zstandard  # noqa: E402
from django.core.cache.backends.locmem import LocMemCache  # noqa: E402
from django_redis.cache import RedisCache as DjangoRedisCache  # noqa: E402
from redis.utils import HIREDIS_AVAILABLE  # noqa: E402

from tecnocursos.cache import backend as backend_module  # noqa: E402
from tecnocursos.cache import codec as codec_module  # noqa: E402
from tecnocursos.cache.backend import HierarchicalCacheBackend  # noqa: E402
from tecnocursos.cache.decorators import cached  # noqa: E402
from tecnocursos.lib import embedded_redis  # noqa: E402

SMALL = {"id": 7, "title": "Intro to caching", "tags": ["redis", "django"], "price": 19.9}
LARGE = {"id": 8, "rows": [{"n": i, "text": f"lesson {i} " + "x" * 80} for i in range(100)]}
LARGE_TEXT = "".join(f"<p>lesson {i}: {'y' * 90}</p>" for i in range(100))  # ~10 KB, immutable
VALUES = (("small dict", SMALL), ("10KB dict", LARGE), ("10KB str", LARGE_TEXT))
ROUNDS = 25


def redis_url() -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    embedded_redis.ensure_running(ROOT / "var")  # stops when the bench exits, if it started it
    return embedded_redis.url(ROOT / "var")


def best_ns(fns, n: int, rounds: int = ROUNDS, cpu: list[float] | None = None) -> list[float]:
    """Best per-call wall time in ns of each of `fns`, over `rounds` interleaved rounds of n calls.

    With `cpu` (a list as long as `fns`), also the best per-call CPU time of this thread: it leaves
    out time spent waiting (for Redis, or for a core taken by someone else's test suite), so on
    a shared machine it shows the client-side cost of each contender with much less noise.
    """
    best = [float("inf")] * len(fns)
    order = list(range(len(fns)))
    for r in range(rounds):
        for i in order[r % len(order):] + order[: r % len(order)]:
            fn = fns[i]
            start_cpu = time.thread_time_ns()
            start = time.perf_counter_ns()
            for _ in range(n):
                fn()
            best[i] = min(best[i], (time.perf_counter_ns() - start) / n)
            if cpu is not None:
                cpu[i] = min(cpu[i], (time.thread_time_ns() - start_cpu) / n)
    return best


def l1_hits(ours: HierarchicalCacheBackend) -> list[tuple[str, float, float, float]]:
    locmem = LocMemCache("bench", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
    lru = cachetools.LRUCache(maxsize=1000)
    rows = []
    for label, value in VALUES:
        key = f"course:{label.replace(' ', '-')}"
        ours.set(key, value, 600)
        locmem.set(key, value, 600)
        lru[key] = value
        assert ours.get(key) == locmem.get(key) == lru[key]
        n = 500 if label == "small dict" else 100
        rows.append((label, *best_ns([
            lambda k=key: ours.get(k),
            lambda k=key: locmem.get(k),
            lambda k=key: lru[k],
        ], n, rounds=120)))
    return rows


def get_and_decode(client: redis.Redis, key: str):
    """What any client does for a hit on our stored bytes: GET, decompress, unpickle."""
    zstd = zstandard.ZstdDecompressor()

    def run():
        raw = client.get(key)
        body = memoryview(raw)[codec_module.HEADER_SIZE:]
        if raw[0] == codec_module.ZSTD:
            body = zstd.decompress(body)
        elif raw[0] == codec_module.ZLIB:
            body = zlib.decompress(body)
        return pickle.loads(body)

    return run


def l2_hits(url: str, namespace: str) -> list[tuple[str, int, list[float], list[float]]]:
    ours = HierarchicalCacheBackend(url, {"KEY_PREFIX": namespace + "-l2", "OPTIONS": {"L1_MAX_ITEMS": 0}})
    raw = ours.engine.l2.client  # the same client, pool and parser as ours: a like-for-like baseline
    dj = DjangoRedisCache(url, {"KEY_PREFIX": namespace + "-dj", "OPTIONS": {
        "COMPRESSOR": "django_redis.compressors.zlib.ZlibCompressor"}})
    rows = []
    try:
        for label, value in VALUES:
            key = f"course:{label.replace(' ', '-')}"
            ours.set(key, value, 600)
            dj.set(key, value, 600)
            full = ours.make_key(key)
            decoded = get_and_decode(raw, full)
            assert ours.get(key) == dj.get(key) == decoded() == value
            stored = len(raw.get(full))
            cpu = [float("inf")] * 4
            wall = best_ns([
                lambda k=key: ours.get(k),
                lambda k=full: raw.get(k),
                decoded,
                lambda k=key: dj.get(k),
            ], 20, rounds=300, cpu=cpu)
            rows.append((label, stored, wall, cpu))
    finally:
        ours.clear()
        for key in raw.scan_iter(match=f"{namespace}-dj*"):
            raw.delete(key)
        raw.delete(ours.engine.stats_key, ours.engine.procs_key)
        ours.engine.close()
    return rows


def decorator_overhead(ours: HierarchicalCacheBackend) -> tuple[float, float, float]:
    @cached(ttl_seconds=600, cache_alias="bench")
    def course(course_id: int) -> dict:
        return SMALL

    course(7)
    key = course.cache_key(7)
    l1 = ours.engine.l1
    assert l1.get(key) is not None
    bare, decorated = best_ns([lambda: l1.get(key), lambda: course(7)], 500, rounds=200)
    return bare, decorated, decorated - bare


def zipf_hit_rate(url: str, namespace: str) -> tuple[float, float, float]:
    keys, requests = 20_000, 200_000
    rng = random.Random(42)
    weights = [1 / (i + 1) ** 1.1 for i in range(keys)]
    stream = rng.choices(range(keys), weights=weights, k=requests)
    ours = HierarchicalCacheBackend(url, {"KEY_PREFIX": namespace + "-zipf", "OPTIONS": {"L1_MAX_ITEMS": 1000}})
    lru = cachetools.LRUCache(maxsize=1000)
    lru_hits = 0
    try:
        for i in stream:
            key = f"k{i}"
            if ours.get(key) is None:
                ours.set(key, f"value {i}", 600)
            if key in lru:
                lru_hits += 1
                lru[key]
            else:
                lru[key] = f"value {i}"
        engine = ours.engine
        l1_rate = engine.l1.hits / requests
        overall = (engine.l1.hits + engine.counts.l2_hits) / requests
    finally:
        ours.clear()
        engine.l2.client.delete(engine.stats_key, engine.procs_key)
        engine.close()
    return l1_rate, overall, lru_hits / requests


def main() -> None:
    url = redis_url()
    namespace = f"bench:{uuid.uuid4().hex[:8]}"
    params = {"KEY_PREFIX": namespace, "OPTIONS": {"L1_MAX_ITEMS": 1000}}
    ours = HierarchicalCacheBackend(url, params)
    backend = "tecnocursos.cache.backend.HierarchicalCacheBackend"
    settings.CACHES["bench"] = {"BACKEND": backend, "LOCATION": url, **params}
    try:
        print(f"Redis: {url.split('@')[-1]}; Python {sys.version.split()[0]}; redis-py {redis.__version__}"
              f" ({'hiredis' if HIREDIS_AVAILABLE else 'pure-Python'} parser); best of interleaved rounds\n")
        print("L1 hit (ns/get)          ours   LocMemCache  cachetools   LocMem/ours  cachetools/ours")
        for label, mine, locmem, lru in l1_hits(ours):
            print(f"  {label:<20} {mine:8.0f} {locmem:12.0f} {lru:11.0f} {locmem / mine:12.2f}x {lru / mine:14.2f}x")
        print("\nL2 hit, L1 off (us/get)        ours  bare GET  GET+decode  django-redis"
              "  ours/(GET+decode)  ours/bare  django-redis/ours")
        for label, stored, wall, cpu in l2_hits(url, namespace):
            for kind, (mine, bare, decoded, dj) in (("wall", wall), ("cpu", cpu)):
                print(f"  {label:<10} {stored:5d} B {kind:<4} {mine / 1000:7.1f} {bare / 1000:9.1f}"
                      f" {decoded / 1000:11.1f} {dj / 1000:13.1f} {mine / decoded:17.2f}x {mine / bare:9.2f}x"
                      f" {dj / mine:17.2f}x")
        bare, decorated, overhead = decorator_overhead(ours)
        print(f"\n@cached hit: {decorated:.0f} ns; bare L1 get: {bare:.0f} ns; overhead {overhead / 1000:.2f} us")
        l1_rate, overall, lru_rate = zipf_hit_rate(url, namespace)
        print(f"\nZipf(1.1), 20,000 keys, 200,000 gets, L1 1,000 items: L1 hit rate {l1_rate:.1%}, "
              f"L1+L2 {overall:.1%}; cachetools.LRUCache(1000) on the same stream {lru_rate:.1%}")
    finally:
        ours.clear()
        ours.engine.l2.client.delete(ours.engine.stats_key, ours.engine.procs_key)
        for engine, _ in backend_module._engines.values():
            engine.close()


if __name__ == "__main__":
    main()
