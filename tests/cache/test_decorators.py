from __future__ import annotations

import asyncio
import threading

import pytest

from tecnocursos.cache.decorators import cache_bypass, cached

calls: list[tuple] = []


@cached(ttl_seconds=60, tags=["courses", "course:{course_id}"], key="course:{course_id}:{lang}")
def course_summary(course_id: int, lang: str = "en") -> dict:
    calls.append(("summary", course_id, lang))
    return {"id": course_id, "lang": lang, "n": len(calls)}


@cached(ttl_seconds=60)
def square(x: int) -> int:
    calls.append(("square", x))
    return x * x


@cached(ttl_seconds=60)
async def slow_double(x: int) -> int:
    calls.append(("double", x))
    await asyncio.sleep(0.1)
    return 2 * x


@pytest.fixture(autouse=True)
def _fresh(default_cache):
    calls.clear()
    yield
    calls.clear()


def test_it_computes_once_and_then_hits():
    assert course_summary(1) == {"id": 1, "lang": "en", "n": 1}
    assert course_summary(1) == {"id": 1, "lang": "en", "n": 1}
    assert course_summary(1, "pt") == {"id": 1, "lang": "pt", "n": 2}
    assert course_summary(course_id=1, lang="en")["n"] == 1  # the key template binds by name
    assert len(calls) == 2


def test_the_default_key_separates_arguments():
    assert [square(2), square(3), square(2)] == [4, 9, 4]
    assert calls == [("square", 2), ("square", 3)]
    assert square.cache_key(2) != square.cache_key(3)


def test_invalidate_one_entry_and_all_entries():
    square(2)
    square(3)
    assert square.invalidate(2) is True
    square(2)
    square(3)
    assert calls == [("square", 2), ("square", 3), ("square", 2)]
    assert square.invalidate_all() == 2
    square(3)
    assert calls[-1] == ("square", 3)


def test_tags_with_arguments_invalidate_through_the_backend(default_cache):
    course_summary(1)
    course_summary(2)
    default_cache.invalidate_tags(["course:1"])
    course_summary(1)
    course_summary(2)
    assert [c[1] for c in calls] == [1, 2, 1]
    default_cache.invalidate_tags(["courses"])
    course_summary(2)
    assert [c[1] for c in calls] == [1, 2, 1, 2]


def test_bypass_neither_reads_nor_writes():
    square(4)
    with cache_bypass():
        square(4)
        square(5)
    square(5)
    assert calls == [("square", 4), ("square", 4), ("square", 5), ("square", 5)]
    assert square.uncached(6) == 36


def test_refresh_recomputes_and_stores():
    first = course_summary(9)
    refreshed = course_summary.refresh(9)
    assert refreshed["n"] == first["n"] + 1
    assert course_summary(9) == refreshed


def test_callers_get_their_own_copy():
    course_summary(3)["lang"] = "mutated"
    assert course_summary(3)["lang"] == "en"


def test_async_functions_are_cached_and_deduplicated():
    async def main():
        return await asyncio.gather(*(slow_double(21) for _ in range(100)))

    assert asyncio.run(main()) == [42] * 100
    assert asyncio.run(slow_double(21)) == 42
    assert calls == [("double", 21)]
    with cache_bypass():
        asyncio.run(slow_double(21))
    assert len(calls) == 2


def test_concurrent_threads_compute_once():
    barrier = threading.Barrier(50)
    results = []

    def worker():
        barrier.wait()
        results.append(square(7))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [49] * 50
    assert calls == [("square", 7)]


def test_tags_must_be_a_list():
    with pytest.raises(TypeError):
        cached(tags="courses")


def test_a_decorated_function_keeps_its_identity_and_kind():
    from asgiref.sync import iscoroutinefunction  # what Django asks of a view or a middleware

    from tecnocursos.cache.decorators import AsyncCachedFunction, CachedFunction

    assert isinstance(square, CachedFunction) and isinstance(slow_double, AsyncCachedFunction)
    assert square.__name__ == "square" and square.__wrapped__(3) == 9
    assert iscoroutinefunction(slow_double) and not iscoroutinefunction(square)
    assert square.cache_tag.endswith("test_decorators.square")


class Catalog:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"Catalog({self.name!r})"  # the default key is the repr of the arguments, self included

    @cached(ttl_seconds=60)
    def size(self, factor: int) -> int:
        calls.append(("size", self.name, factor))
        return len(self.name) * factor


def test_methods_are_cached_per_instance_and_arguments():
    a, b = Catalog("abc"), Catalog("abcd")
    assert (a.size(2), a.size(2), b.size(2)) == (6, 6, 8)
    assert calls == [("size", "abc", 2), ("size", "abcd", 2)]
    a.size.invalidate(a, 2)  # the method's attributes stay reachable; the key includes the instance
    assert a.size(2) == 6 and len(calls) == 3
