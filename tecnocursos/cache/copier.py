"""Fast private copies of plain-data values, for L1 hits.

L1 must not hand two callers the same mutable object (a caller's `result["x"] = 1` would change
what every other caller sees). Django's backends pay `pickle.loads` per hit for that. For values
made only of builtin types - dict, list, tuple, set, frozenset, bytearray around str, bytes, int,
float, bool, complex, Decimal, None - we can do better: at `set` time, walk the value once and
build a *copy plan*, a small function that rebuilds only the containers and shares every
immutable leaf (a str is never copied: nobody can change it). A hit then costs a few C calls
(`dict.copy`, `list(map(dict.copy, rows))`, ...) instead of unpickling every string and number.

    copy, size = plan(value)      # Unsupported: use pickle instead
    stored = copy(value)          # L1's own copy: later changes to `value` don't reach it
    fresh = copy(stored)          # on every hit: new containers, shared immutable leaves

`copy is None` means the value is immutable all the way down: it is shared as it is.

Anything else falls back to pickle (the caller's job): instances of other classes (including
subclasses of dict/list/str: OrderedDict, defaultdict, SafeString, IntEnum, ...), containers that
appear twice in the value or contain themselves (pickle keeps that aliasing; a plan would not),
dict keys that are not immutable leaves, and values too deep or too large to walk cheaply.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

# Immutable leaves: shared between the stored value and every copy. Exact types only: a
# subclass may carry mutable state (SafeString, an IntEnum member with attributes, ...).
ATOMS = frozenset({str, bytes, int, float, bool, complex, Decimal, type(None)})
MAX_DEPTH = 32
MAX_NODES = 50_000  # containers and leaves; beyond this a plan isn't worth building

Copier = Callable[[Any], Any]
_getsizeof = sys.getsizeof
_all_atoms = ATOMS.issuperset  # C-level: "every type in this iterable is an atom"
_chain = itertools.chain.from_iterable
_LEAF_BYTES = 40  # object header of a leaf (its payload is counted by the caller's pickle size)


class Unsupported(Exception):
    """The value can't be copied by a plan: pickle it."""


def plan(value: Any, max_nodes: int = MAX_NODES) -> tuple[Copier | None, int]:
    """(copier, or None when the value is immutable; bytes of its containers and leaf headers).

    Raises Unsupported. The size leaves out the leaves' payload (string characters, ...):
    add the pickle's length, which is close to it.
    """
    walk = _Walk(max_nodes)
    copier = walk.plan(value, 0)
    return copier, walk.size


def _copy_list_with(each: Copier) -> Copier:
    def copy(items: list[Any]) -> list[Any]:
        return list(map(each, items))

    return copy


def _copy_list_mixed(plans: tuple[Copier | None, ...]) -> Copier:
    def copy(items: list[Any]) -> list[Any]:
        return [item if each is None else each(item) for each, item in zip(plans, items, strict=True)]

    return copy


def _copy_tuple_one(index: int, each: Copier) -> Copier:
    def copy(items: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*items[:index], each(items[index]), *items[index + 1 :])

    return copy


def _copy_tuple(plans: tuple[Copier | None, ...]) -> Copier:
    def copy(items: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple([item if each is None else each(item) for each, item in zip(plans, items, strict=True)])

    return copy


def _copy_dict_one(key: Any, each: Copier) -> Copier:
    def copy(mapping: dict[Any, Any]) -> dict[Any, Any]:
        new = mapping.copy()
        new[key] = each(mapping[key])
        return new

    return copy


def _copy_dict_some(subs: tuple[tuple[Any, Copier], ...]) -> Copier:
    def copy(mapping: dict[Any, Any]) -> dict[Any, Any]:
        new = mapping.copy()
        for key, each in subs:
            new[key] = each(mapping[key])
        return new

    return copy


def _list_of_dicts(rows: list[dict[Any, Any]]) -> list[dict[Any, Any]]:
    return list(map(dict.copy, rows))


def _list_of_lists(rows: list[list[Any]]) -> list[list[Any]]:
    return list(map(list.copy, rows))


_MUTABLE = frozenset({dict, list, set, bytearray})
_IMMUTABLE = frozenset({tuple, frozenset})


class _Walk:
    __slots__ = ("budget", "size", "seen", "shapes")

    def __init__(self, max_nodes: int):
        self.budget = max_nodes
        self.size = 0
        self.seen: set[int] = set()
        # Plans by shape, so that 100 rows of the same shape share one plan and a list of
        # them copies with one `map` (and the plan's memory doesn't grow with the rows).
        self.shapes: dict[tuple[Any, ...], Copier] = {}

    def shaped(self, shape: tuple[Any, ...], make: Callable[..., Copier], *args: Any) -> Copier:
        copier = self.shapes.get(shape)
        if copier is None:
            copier = self.shapes[shape] = make(*args)
        return copier

    def spend(self, nodes: int) -> None:
        self.budget -= nodes
        if self.budget < 0:
            raise Unsupported("too large to plan")

    def claim(self, containers: Any, count: int) -> None:
        """Record mutable containers by id: one seen twice means aliasing (or a cycle)."""
        ids = set(map(id, containers))
        if len(ids) != count or not self.seen.isdisjoint(ids):
            raise Unsupported("a mutable container appears twice (or contains itself)")
        self.seen |= ids

    def plan(self, value: Any, depth: int) -> Copier | None:
        kind = type(value)
        if kind in ATOMS:
            self.size += _LEAF_BYTES
            return None
        if depth > MAX_DEPTH:
            raise Unsupported("too deep")
        if kind in _MUTABLE:
            # Pickle would keep two references to one list as one list in the copy; a plan
            # would make two. Rare enough to leave to pickle (which also handles cycles).
            self.claim((value,), 1)
        elif kind not in _IMMUTABLE:
            raise Unsupported(f"type {kind.__name__}")
        count = len(value)
        self.spend(1 + count)
        self.size += _getsizeof(value) + _LEAF_BYTES * count
        if kind is dict:
            return self.plan_dict(value, depth + 1)
        if kind is list or kind is tuple:
            return self.plan_sequence(value, kind, count, depth + 1)
        if kind is bytearray:
            return bytearray.copy
        for item in value:  # set / frozenset: members are hashable, so immutable or unsupported
            if type(item) not in ATOMS and (type(item) is not tuple or self.plan(item, depth + 1) is not None):
                raise Unsupported(f"set member of type {type(item).__name__}")
        return set.copy if kind is set else None

    def plan_dict(self, value: dict[Any, Any], depth: int) -> Copier:
        if not _all_atoms(map(type, value)):
            for key in value:
                if type(key) not in ATOMS and (type(key) is not tuple or self.plan(key, depth) is not None):
                    raise Unsupported(f"dict key of type {type(key).__name__}")
        if _all_atoms(map(type, value.values())):
            return dict.copy
        subs = []
        for key, item in value.items():
            if type(item) not in ATOMS:
                each = self.plan(item, depth)
                if each is not None:
                    subs.append((key, each))
        if not subs:
            return dict.copy
        if len(subs) == 1:
            key, each = subs[0]
            return self.shaped(("d1", key, each), _copy_dict_one, key, each)
        subs_t = tuple(subs)
        return self.shaped(("d", subs_t), _copy_dict_some, subs_t)

    def plan_sequence(self, value: list[Any] | tuple[Any, ...], kind: type, count: int, depth: int) -> Copier | None:
        if _all_atoms(map(type, value)):
            return list.copy if kind is list else None
        if kind is list and depth <= MAX_DEPTH:
            # Rows of plain values (a query result, say): checked in C, not row by row.
            kinds = set(map(type, value))
            if kinds == {dict} or kinds == {list}:
                inner = value if kinds == {list} else map(dict.values, value)
                if _all_atoms(map(type, _chain(inner))) and (kinds == {list} or _all_atoms(map(type, _chain(value)))):
                    self.claim(value, count)
                    cells = sum(map(len, value))
                    self.spend(cells)
                    self.size += sum(map(_getsizeof, value)) + _LEAF_BYTES * cells * (1 if kinds == {list} else 2)
                    return _list_of_dicts if kinds == {dict} else _list_of_lists
        plans = tuple([None if type(item) in ATOMS else self.plan(item, depth) for item in value])
        distinct = set(plans)
        if kind is tuple:
            if distinct <= {None}:
                return None  # immutable all the way down: share it
            mutable = [i for i, each in enumerate(plans) if each is not None]
            if len(mutable) == 1:
                index = mutable[0]
                return self.shaped(("t1", index, plans[index]), _copy_tuple_one, index, plans[index])
            return self.shaped(("t", plans), _copy_tuple, plans)
        if distinct <= {None}:
            return list.copy
        if len(distinct) == 1:
            each = plans[0]
            return self.shaped(("l*", each), _copy_list_with, each)
        return self.shaped(("l", plans), _copy_list_mixed, plans)
