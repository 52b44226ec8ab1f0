"""Shared fixtures: the four users (owner, member, outsider, staff), API clients
with JWTs, a real Celery worker on the real broker, and WebSocket helpers that
drive the real ASGI application of tecnocursos/asgi.py (`open_sockets()` opens
sockets and disconnects every one of them, pass or fail)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config: pytest.Config) -> None:
    # Without REDIS_URL the session starts the embedded Redis and owns it: it stops when
    # pytest exits, however it exits (tests/core/test_embedded_redis_lifecycle.py).
    from tecnocursos.bootstrap import prepare_process

    prepare_process()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # PBKDF2 costs ~0.3 s per user; tests don't need the work factor.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, *, staff: bool = False):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com", is_staff=staff
    )


@pytest.fixture
def owner(db):
    return make_user("owner")


@pytest.fixture
def member(db):
    return make_user("member")


@pytest.fixture
def outsider(db):
    return make_user("outsider")


@pytest.fixture
def staff(db):
    return make_user("staff", staff=True)


def access_token(user) -> str:
    return str(AccessToken.for_user(user))


def api_client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def owner_client(owner) -> APIClient:
    return api_client_for(owner)


@pytest.fixture
def outsider_client(outsider) -> APIClient:
    return api_client_for(outsider)


@pytest.fixture
def staff_client(staff) -> APIClient:
    return api_client_for(staff)


_worker_running = False  # the session's Celery worker, once a test asked for it


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        if _worker_running:
            _quiesce_worker()


def _quiesce_worker(timeout: float = 20) -> None:
    """Tasks a test queued (an alert's notifications after commit, say) must not run into the next
    test or into this one's teardown, whose TRUNCATE deadlocks with a task's row locks: drop the
    queued ones and let the started ones end, before any fixture is torn down."""
    from celery.worker import state

    from tecnocursos.celery import app

    app.control.purge()
    deadline = time.monotonic() + timeout
    while (state.active_requests or state.reserved_requests) and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture(scope="session")
def celery_worker_session(django_db_setup, django_db_blocker) -> Iterator[Any]:
    """A real Celery worker (solo pool, in a thread) consuming the real broker."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from tecnocursos.celery import app

    def close_connections(**kwargs: Any) -> None:
        # The worker thread's connection would otherwise block dropping the test database.
        connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    app.control.purge()  # messages a previous run left behind
    global _worker_running
    with django_db_blocker.unblock(), start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING") as w:
        _worker_running = True
        yield w
        _worker_running = False
    task_postrun.disconnect(close_connections)


@pytest.fixture
def celery_worker(celery_worker_session, transactional_db) -> Any:
    """Tests that run tasks need committed rows: the worker has its own connection."""
    return celery_worker_session


@contextmanager
def assert_database_query_count(expected: int) -> Iterator[CaptureQueriesContext]:
    """Exactly `expected` queries inside the block (zulip's helper of that name); a failure lists them,
    so a new query or a per-row one shows up as SQL, not as a number."""
    with CaptureQueriesContext(connection) as captured:
        yield captured
    if len(captured) != expected:
        listing = "\n".join(f"{n}. {query['sql']}" for n, query in enumerate(captured.captured_queries, 1))
        raise AssertionError(f"expected {expected} queries, ran {len(captured)}:\n{listing}")


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts (Redis, daphne)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def roundtrip(payload: Any) -> Any:
    """Every event must survive JSON: what the client sees is what we check."""
    return json.loads(json.dumps(payload))


async def ws_communicator(path: str, user=None, *, origin: str | None = None,
                          subprotocols=None) -> WebsocketCommunicator:
    """A socket on the real application, not connected yet; `user` puts their token in the query."""
    from tecnocursos.asgi import application

    if user is not None and subprotocols is None:
        from asgiref.sync import sync_to_async

        token = await sync_to_async(access_token)(user)
        path = f"{path}{'&' if '?' in path else '?'}token={token}"
    headers = [(b"origin", origin.encode())] if origin else []
    return WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)


async def ws_connect(path: str, user=None, *, origin: str | None = None, subprotocols=None):
    """Open a socket on the real application; returns (communicator, connected, subprotocol).
    Tests open theirs through `open_sockets()`, which also closes them."""
    communicator = await ws_communicator(path, user, origin=origin, subprotocols=subprotocols)
    connected, subprotocol = await communicator.connect(timeout=5)
    return communicator, connected, subprotocol


class Sockets:
    """The sockets a test opens inside `async with open_sockets() as sockets:`."""

    def __init__(self) -> None:
        self.opened: list[WebsocketCommunicator] = []

    def add(self, communicator: WebsocketCommunicator) -> WebsocketCommunicator:
        """Adopt a communicator built elsewhere (another application) so it is closed too."""
        self.opened.append(communicator)
        return communicator

    async def open(self, path: str, user=None, *, origin: str | None = None, subprotocols=None):
        """Like `ws_connect`: (communicator, connected, subprotocol), for tests of the handshake itself."""
        # Adopted before the handshake: a handshake that fails half-way is still closed.
        communicator = self.add(await ws_communicator(path, user, origin=origin, subprotocols=subprotocols))
        connected, subprotocol = await communicator.connect(timeout=5)
        return communicator, connected, subprotocol

    async def connect(self, path: str, user) -> WebsocketCommunicator:
        """A socket of `user`, accepted and past its `connection` event."""
        communicator, connected, _ = await self.open(path, user)
        assert connected, f"{path} refused the socket"
        await receive_type(communicator, "connection")
        return communicator


@asynccontextmanager
async def open_sockets() -> AsyncIterator[Sockets]:
    """Connect, run, disconnect all: every socket opened through it is disconnected on the way out,
    whether the block passed or failed (a socket left open keeps its consumer, its presence and its
    group memberships alive into the next test). A block that failed reports its own error; a block
    that passed still fails if a socket's application crashed or would not stop."""
    sockets = Sockets()
    try:
        yield sockets
    finally:
        # Disconnecting twice is harmless: a test may close one itself to see what follows.
        outcomes = await asyncio.gather(*(c.disconnect() for c in sockets.opened), return_exceptions=True)
    # CancelledError is not an Exception: it marks an application the test's own timeout already stopped.
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    if errors:
        raise errors[0]


async def receive_type(communicator: WebsocketCommunicator, type_: str, timeout: float = 5) -> dict[str, Any]:
    """Read events until one of `type_` arrives (others are skipped)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise AssertionError(f"no {type_!r} event within {timeout}s")
        message = await communicator.receive_json_from(timeout=remaining)
        if message.get("type") == type_:
            return roundtrip(message)


@pytest.fixture(scope="session", autouse=True)
def _drop_stray_db_sessions(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Threads (the Celery worker, sync_to_async executors) keep connections open;
    PostgreSQL refuses to drop the test database while they do."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def default_cache() -> Iterator[Any]:
    """The configured default cache, emptied around the test."""
    from django.core.cache import caches

    backend = caches["default"]
    backend.clear()
    yield backend
    backend.clear()


def database_url(tmp_path: Path) -> str:
    """For a server process a test starts: the test database when it is a server (PostgreSQL),
    a fresh SQLite file when it lives in memory (the process must migrate it)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{tmp_path / 'stack.sqlite3'}"


class SentTasks(list):  # type: ignore[type-arg]
    """What the outbox gave the broker, as (task name, args); `run` executes a task's body instead."""

    def __init__(self) -> None:
        super().__init__()
        self.run: dict[str, Any] = {}

    def send_task(self, name: str, args: list[Any] | None = None, **kwargs: Any) -> None:
        self.append((name, list(args or [])))
        if name in self.run:
            self.run[name](*(args or []))


@pytest.fixture
def sent_tasks(monkeypatch) -> SentTasks:
    """Celery's send_task replaced by a recorder: tasks the outbox sends after commit land here."""
    from tecnocursos.celery import app

    recorder = SentTasks()
    monkeypatch.setattr(app, "send_task", recorder.send_task)
    return recorder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Transactional tests end with a flush that would also wipe what migrations seed (backup
    configurations, alert rules, periodic tasks): restore it after them (serialized rollback),
    so no later test depends on which transactional test ran before it."""
    transactional_fixtures = {"transactional_db", "live_server", "celery_worker"}
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        if marker and marker.args:
            kwargs.setdefault("transaction", marker.args[0])
        fixtures = set(getattr(item, "fixturenames", ()))
        if kwargs.get("transaction") or transactional_fixtures & fixtures:
            item.add_marker(pytest.mark.django_db(**{**kwargs, "transaction": True, "serialized_rollback": True}),
                            append=False)
