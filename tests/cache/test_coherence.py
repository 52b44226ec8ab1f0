"""Two real processes on one Redis: a write in one evicts the other's L1."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.cache.conftest import wait_until

CHILD = textwrap.dedent(
    """
    import json, sys
    from tecnocursos.cache.tiered import TieredCacheEngine
    engine = TieredCacheEngine(sys.argv[1], namespace=sys.argv[2])
    print("ready", flush=True)
    for line in sys.stdin:
        op, key, *rest = line.split()
        full = f"{sys.argv[2]}:1:{key}"
        if op == "get":
            answer = engine.get(full)
        elif op == "peek":
            answer = engine.l1.contains(full)
        elif op == "set":
            engine.set(full, rest[0], 60)
            answer = True
        print(json.dumps(answer), flush=True)
    """
)


class Child:
    def __init__(self, url: str, namespace: str):
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, url, namespace],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def ask(self, op: str, key: str, *rest: str):
        self.process.stdin.write(" ".join((op, key, *rest)) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def load(self, key: str):
        """Read `key` until it sits in the child's L1 (a concurrent invalidation may skip a promotion)."""
        assert wait_until(lambda: self.ask("get", key) is not None and self.ask("peek", key), timeout=2)
        return self.ask("get", key)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=5)


@pytest.fixture
def child(cache):
    process = Child(cache.engine.url, cache.key_prefix)
    yield process
    process.close()


def test_a_set_here_evicts_the_key_from_the_other_process_l1(cache, child):
    cache.set("k", "v1", 60)
    assert child.load("k") == "v1"  # promoted to the child's L1
    cache.set("k", "v2", 60)
    assert wait_until(lambda: child.ask("peek", "k") is False, timeout=2)
    assert child.ask("get", "k") == "v2"


def test_a_delete_here_evicts_the_key_there(cache, child):
    cache.set("k", "v1", 60)
    assert child.load("k") == "v1"
    cache.delete("k")
    assert wait_until(lambda: child.ask("peek", "k") is False, timeout=2)
    assert child.ask("get", "k") is None


def test_a_tag_invalidation_here_evicts_tagged_keys_there(cache, child):
    cache.set("a", "1", 60, tags=["group"])
    cache.set("b", "2", 60, tags=["group"])
    cache.set("c", "3", 60, tags=["other"])
    for key in "abc":
        child.load(key)
    assert cache.invalidate_tags(["group"]) == 2
    assert wait_until(lambda: not child.ask("peek", "a") and not child.ask("peek", "b"), timeout=2)
    assert child.ask("peek", "c") is True
    assert child.ask("get", "a") is None


def test_a_write_there_evicts_the_key_here(cache, child):
    cache.set("k", "here", 60)
    assert cache.engine.l1.contains(cache.make_key("k"))
    child.ask("set", "k", "there")
    assert wait_until(lambda: not cache.engine.l1.contains(cache.make_key("k")), timeout=2)
    assert cache.get("k") == "there"


def test_a_clear_here_empties_the_other_l1(cache, child):
    cache.set("k", "v", 60)
    child.load("k")
    cache.clear()
    assert wait_until(lambda: child.ask("peek", "k") is False, timeout=2)
