from __future__ import annotations

import asyncio
import threading
import time

from tecnocursos.cache.stampede import should_refresh


def test_100_concurrent_misses_compute_once(cache):
    calls = []
    results = []
    barrier = threading.Barrier(100)

    def compute():
        calls.append(1)
        time.sleep(0.2)
        return {"answer": 42}

    def worker():
        barrier.wait()
        results.append(cache.get_or_compute("k", compute, 60))

    threads = [threading.Thread(target=worker) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results == [{"answer": 42}] * 100


def test_100_concurrent_async_misses_compute_once(cache):
    calls = []

    async def compute():
        calls.append(1)
        await asyncio.sleep(0.2)
        return "value"

    async def main():
        return await asyncio.gather(*(cache.aget_or_compute("k", compute, 60) for _ in range(100)))

    assert asyncio.run(main()) == ["value"] * 100
    assert len(calls) == 1


def test_a_caller_waits_for_the_lock_another_process_holds(cache):
    full = cache.make_key("k")
    assert cache.engine.acquire_lock(full, "other-process", 10)
    calls, results = [], []
    thread = threading.Thread(target=lambda: results.append(cache.get_or_compute("k", lambda: calls.append(1), 60)))
    thread.start()
    time.sleep(0.1)
    assert thread.is_alive() and not calls  # waiting, not computing
    cache.engine.set(full, ("from the other process", 0.01, time.time() + 60), 60)
    cache.engine.release_lock(full, "other-process")
    thread.join(timeout=5)
    assert results == ["from the other process"]
    assert calls == []


def test_a_lock_whose_holder_died_times_out(make_cache):
    cache = make_cache(LOCK_TIMEOUT=0.3)
    assert cache.engine.acquire_lock(cache.make_key("k"), "dead-holder", 30)
    started = time.monotonic()
    assert cache.get_or_compute("k", lambda: "computed anyway", 60) == "computed anyway"
    assert time.monotonic() - started < 5


def test_early_refresh_is_likely_near_expiry_and_unlikely_far_from_it():
    now = time.time()
    assert should_refresh(("v", 1.0, now - 0.001), beta=1.0)  # already due
    assert not any(should_refresh(("v", 0.001, now + 3600), beta=1.0) for _ in range(1000))
    assert not should_refresh(("v", 1.0, now - 1), beta=0)  # disabled
    assert not should_refresh(("v", 1.0, None), beta=1.0)  # no expiry


def test_an_entry_due_for_early_refresh_is_recomputed_by_one_caller(cache):
    full = cache.make_key("k")
    # Still stored for 60 s, but its envelope says it expires now and took 1 s to compute.
    cache.engine.set(full, ("old", 1.0, time.time()), 60)
    assert cache.get_or_compute("k", lambda: "new", 60) == "new"
    assert cache.get("k")[0] == "new"


def test_an_unpicklable_result_is_returned_but_not_cached(cache):
    value = cache.get_or_compute("k", lambda: (lambda: None), 60)
    assert callable(value)
    assert cache.get("k") is None
