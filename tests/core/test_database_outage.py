"""PostgreSQL restarted under a running server: clean JSON 503s (with Retry-After) while it is
down, then recovery without restarting anything.

The test runs its own PostgreSQL cluster (initdb into a temporary directory, on a free loopback
port) and its own daphne process, so stopping the database disturbs nobody else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def pg_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


def as_postgres(*command: str) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class Cluster:
    def __init__(self, bin_dir: Path, directory: Path, port: int):
        self.bin, self.dir, self.port = bin_dir, directory, port

    def ctl(self, *args: str) -> None:
        subprocess.run(as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-t", "30", *args),
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "-l", str(self.dir / "log"),
                 "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bin_dir = pg_bin()
    if bin_dir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    directory = Path(tempfile.mkdtemp(prefix="tc-pg-"))
    directory.chmod(0o777)  # the postgres user writes its data, socket and log here
    subprocess.run(as_postgres(str(bin_dir / "initdb"), "-D", str(directory / "data"), "-U", "postgres",
                               "--auth=trust", "-E", "UTF8"), check=True, capture_output=True, timeout=120)
    db = Cluster(bin_dir, directory, free_port())
    db.start()
    try:
        yield db
    finally:
        try:
            db.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(directory, ignore_errors=True)


def http(url: str, token: str | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), dict(exc.headers)


def test_a_database_restart_gives_clean_503s_then_recovers(cluster, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{cluster.port}/postgres",
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_PREFIX": f"{settings.REDIS_PREFIX}-pgout",
        "TECNOCURSOS_VAR_DIR": str(tmp_path),
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "60",  # persistent connections: the restart leaves them broken
    }
    setup = ("from django.core.management import call_command; call_command('migrate', verbosity=0);"
             "from django.contrib.auth.models import User; from rest_framework_simplejwt.tokens import AccessToken;"
             "print(AccessToken.for_user(User.objects.create_user('pgout')))")
    token = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {setup}"], cwd=ROOT,
                           env={**env, "DJANGO_SETTINGS_MODULE": "tecnocursos.settings"}, check=True,
                           capture_output=True, text=True, timeout=180).stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tecnocursos.serve", "-b", "127.0.0.1", "-p", str(port),
                               "tecnocursos.asgi:application"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http(f"{base}/api/courses/", token)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)

        cluster.stop()
        for _ in range(3):
            status, body, headers = http(f"{base}/api/courses/", token)
            assert status == 503, body
            assert body["detail"] and int(headers["Retry-After"]) > 0

        cluster.start()
        deadline = time.monotonic() + 20
        while (status := http(f"{base}/api/courses/", token)[0]) != 200:
            assert status == 503 and time.monotonic() < deadline
            time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=20)
