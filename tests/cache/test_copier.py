"""Copy plans (copier.py) and how L1 uses them: equal values, no shared mutable containers."""

from __future__ import annotations

import enum
import pickle
import threading
from collections import OrderedDict, defaultdict
from decimal import Decimal

import pytest
from django.utils.safestring import SafeString, mark_safe

from tecnocursos.cache import copier
from tecnocursos.cache.l1 import MISSING, L1Cache


class Level(enum.IntEnum):
    LOW = 1


ROWS = [{"n": i, "text": f"lesson {i}", "price": 1.5, "ok": True, "none": None} for i in range(50)]
PLAIN = [
    {"id": 7, "title": "Intro", "tags": ["redis", "django"], "price": 19.9},
    {"id": 8, "rows": ROWS},
    [[1, 2], [3, 4]],
    (1, [2, 3], "x"),
    ({"a": [1]}, 0.5, None),
    {"s": {1, 2}, "f": frozenset({"a"}), "b": bytearray(b"xy"), "t": (1, (2, 3))},
    {(1, "a"): [1], 2: {"deep": [{"deeper": [1, {"x": 2}]}]}},
    [{"a": 1}, [1], {"b": [2]}, "leaf", 3],
    {"d": Decimal("1.10"), "c": 1 + 2j, "bytes": b"\x00\x01"},
    [],
    {},
]


def mutable_ids(value, out=None):
    out = set() if out is None else out
    if type(value) in (dict, list, set, bytearray):
        out.add(id(value))
    if isinstance(value, dict):
        for item in value.values():
            mutable_ids(item, out)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            mutable_ids(item, out)
    return out


def same_types(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            same_types(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        for x, y in zip(a, b, strict=True):
            same_types(x, y)


@pytest.mark.parametrize("value", PLAIN, ids=range(len(PLAIN)))
def test_a_plan_copies_every_mutable_container_and_keeps_types(value):
    copy, size = copier.plan(value)
    assert size > 0
    fresh = value if copy is None else copy(value)
    assert fresh == value
    same_types(fresh, value)
    assert not (mutable_ids(fresh) & mutable_ids(value))


def test_immutable_values_need_no_copy():
    assert copier.plan((1, ("a", (2.5, None)), frozenset({(1, 2)})))[0] is None


@pytest.mark.parametrize(
    "value",
    [
        OrderedDict(a=1),
        defaultdict(list, a=[1]),
        {"e": Level.LOW},
        [mark_safe("<b>")],
        {"obj": object()},
        {frozenset({1}): 1},
    ],
    ids=["OrderedDict", "defaultdict", "IntEnum", "SafeString", "object", "frozenset key"],
)
def test_other_types_are_unsupported(value):
    with pytest.raises(copier.Unsupported):
        copier.plan(value)


def test_aliasing_and_cycles_are_left_to_pickle():
    shared = [1]
    with pytest.raises(copier.Unsupported):
        copier.plan([shared, shared])
    loop: list = []
    loop.append(loop)
    with pytest.raises(copier.Unsupported):
        copier.plan(loop)
    row = (1, 2)
    assert copier.plan([row, row])[0] is list.copy  # an immutable tuple may appear twice


def test_too_deep_or_too_large_is_unsupported():
    deep: list = []
    for _ in range(copier.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(copier.Unsupported):
        copier.plan(deep)
    with pytest.raises(copier.Unsupported):
        copier.plan([[i] for i in range(100)], max_nodes=50)


# -- L1 -------------------------------------------------------------------------------------
def hit_twice(l1: L1Cache, key: str):
    return l1.get(key), l1.get(key), l1.get(key)  # the first hit unpickles and builds the plan


@pytest.mark.parametrize("value", PLAIN, ids=range(len(PLAIN)))
def test_l1_hands_out_equal_independent_copies_before_and_after_the_plan(value):
    l1 = L1Cache()
    l1.set("k", value, None)
    copies = hit_twice(l1, "k")
    for got in copies:
        assert got == value
        same_types(got, value)
        assert not (mutable_ids(got) & mutable_ids(value))
    assert not (mutable_ids(copies[1]) & mutable_ids(copies[2]))
    stored = l1._data["k"][0]
    assert all(not (mutable_ids(got) & mutable_ids(stored)) for got in copies)


def test_a_tuple_holding_a_list_is_still_copied():
    l1 = L1Cache()
    l1.set("k", (1, [2]), None)
    first, second, third = hit_twice(l1, "k")
    third[1].append(3)
    assert l1.get("k") == (1, [2])
    assert second[1] is not third[1]


def test_bool_int_and_float_stay_distinct():
    l1 = L1Cache()
    l1.set("k", {"t": True, "one": 1, "f": 1.0, "z": False, "zero": 0, "rows": [True, 1, 1.0]}, None)
    for got in hit_twice(l1, "k"):
        assert [type(got[k]) for k in ("t", "one", "f", "z", "zero")] == [bool, int, float, bool, int]
        assert [type(v) for v in got["rows"]] == [bool, int, float]


def test_mutating_a_hit_never_reaches_the_cache():
    l1 = L1Cache()
    value = {"id": 8, "rows": [{"n": 1, "tags": ["a"]}, {"n": 2, "tags": ["b"]}]}
    l1.set("k", value, None)
    value["rows"][0]["tags"].append("changed by the writer")
    for got in hit_twice(l1, "k"):
        got["rows"][0]["tags"].append("changed by a reader")
        got["rows"].append({})
        got["id"] = 0
    assert l1.get("k") == {"id": 8, "rows": [{"n": 1, "tags": ["a"]}, {"n": 2, "tags": ["b"]}]}


@pytest.mark.parametrize(
    "value",
    [OrderedDict(a=[1]), defaultdict(list, a=[1]), [mark_safe("<b>")], {"e": Level.LOW}],
    ids=["OrderedDict", "defaultdict", "SafeString", "IntEnum"],
)
def test_other_types_fall_back_to_pickle_and_keep_their_type(value):
    l1 = L1Cache()
    l1.set("k", value, None)
    copies = hit_twice(l1, "k")
    for got in copies:
        assert got == value
        same_types(got, value)
    if isinstance(value, list):
        assert type(copies[2][0]) is SafeString
    assert l1._data["k"][1] is pickle.loads  # no plan: unpickled on every hit
    assert copies[1] is not copies[2]


def test_aliasing_survives_through_the_pickle_fallback():
    shared = [1]
    l1 = L1Cache()
    l1.set("k", {"a": shared, "b": shared}, None)
    for got in hit_twice(l1, "k"):
        assert got["a"] is got["b"] and got["a"] is not shared


def test_the_plan_upgrade_keeps_byte_accounting_and_bounds():
    l1 = L1Cache(max_bytes=200_000)
    for i in range(5):
        l1.set(f"k{i}", {"rows": [{"n": n, "text": "x" * 50} for n in range(100)]}, None)
    for i in range(5):
        hit_twice(l1, f"k{i}")
    assert l1.bytes == sum(entry[3] for entry in l1._data.values())
    assert l1.bytes <= 200_000
    assert l1.evictions > 0  # live rows take more room than their pickle


def test_a_value_replaced_during_its_first_hit_is_not_overwritten():
    l1 = L1Cache()
    l1.set("k", {"v": [1]}, None)
    entry = l1._data["k"]
    l1.set("k", {"v": [2]}, None)
    assert l1._first_hit("k", entry) == {"v": [1]}  # the stale reader gets what it read...
    assert l1.get("k") == {"v": [2]}  # ...and the new value stays


def test_hits_without_a_lock_survive_concurrent_writes():
    l1 = L1Cache(max_items=50)
    errors: list[BaseException] = []
    stop = threading.Event()

    def read():
        try:
            while not stop.is_set():
                for i in range(100):
                    got = l1.get(f"k{i}")
                    assert got is MISSING or got == {"i": i, "rows": [i]}
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def write():
        try:
            for round_ in range(200):
                for i in range(100):
                    if (i + round_) % 3:
                        l1.set(f"k{i}", {"i": i, "rows": [i]}, 0.001 if i % 7 == 0 else None)
                    else:
                        l1.delete(f"k{i}")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    writer = threading.Thread(target=write)
    for thread in readers:
        thread.start()
    writer.start()
    writer.join()
    stop.set()
    for thread in readers:
        thread.join()
    assert not errors
    assert len(l1) <= 50 and l1.bytes == sum(entry[3] for entry in l1._data.values())
