"""Real-browser tests: headless Chromium (Debian's `chromium` package, `make test` installs it)
driven by Playwright against a real daphne serving the test database and the test Redis.

The server is a separate process, so the tests write their rows with transactional tests
(committed, visible to it) and read what the pages did straight from the database.
Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings

from tests.conftest import PASSWORD, database_url, free_port
from tests.realtime.test_multiprocess import wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.slow
T = TypeVar("T")


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; `make test` does it when root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (requirements-dev.txt)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason:
        for item in items:
            if "tests/browser/" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """The server checks passwords with the real hashers: users are made with them too."""


@pytest.fixture(scope="session")
def live_url(django_db_setup, django_db_blocker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A daphne on loopback serving the test database (PostgreSQL: the server must see its rows)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the browser tests share the test database with a server process: set DATABASE_URL=postgres://...")
    tmp = tmp_path_factory.mktemp("browser")
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "tecnocursos.settings", "SECRET_KEY": settings.SECRET_KEY,
           "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost", "DATABASE_URL": database_url(tmp),
           "REDIS_URL": settings.REDIS_URL, "REDIS_PREFIX": settings.REDIS_PREFIX,
           "TECNOCURSOS_VAR_DIR": str(settings.VAR_DIR), "STATIC_ROOT": str(tmp / "static"), "PYTHONPATH": str(ROOT)}
    static = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                            capture_output=True, timeout=120)
    assert static.returncode == 0, static.stderr.decode()[-2000:]
    port = free_port()
    server = subprocess.Popen([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "tecnocursos.asgi:application"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_serving(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Per test: Playwright's sync API keeps an event loop running in this thread while it is open,
    which later async tests (pytest-asyncio) could not run under."""
    from playwright.sync_api import sync_playwright

    # Meanwhile the test's own ORM calls are plain synchronous code all the same (the server is
    # another process).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run in another thread: async_to_sync (the channel layer) refuses a thread with a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result(timeout=30)


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, live_url: str, username: str, next_path: str) -> None:
    """Through the sign-in form, as a person would."""
    page.goto(f"{live_url}{next_path}")
    assert "/accounts/login/" in page.url  # sent to sign in first
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}{next_path}")


def script_errors(page: Any) -> list[str]:
    """Uncaught exceptions of the page's scripts, collected as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
