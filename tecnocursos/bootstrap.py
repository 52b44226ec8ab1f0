"""What an entry point (manage.py, asgi.py, the Celery processes, the test session) does
before Django starts, so that settings can stay a plain description without side effects.

- With DEBUG on and no SECRET_KEY: a random development key is kept in the var directory,
  so sessions survive restarts and every process of the stack shares it.
- With no REDIS_URL: the embedded Redis is started, or reused when another process of this
  var directory runs it (tecnocursos/lib/embedded_redis.py says who owns and stops it).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tecnocursos.lib import embedded_redis

BASE_DIR = Path(__file__).resolve().parent.parent
TRUE = {"1", "true", "yes", "on"}


def var_dir() -> Path:
    return Path(os.environ.get("TECNOCURSOS_VAR_DIR") or BASE_DIR / "var")


def dev_secret_key_file() -> Path:
    return var_dir() / "secret_key"


def prepare_process(*, needs_redis: bool = True) -> None:
    directory = var_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("STATIC_ROOT"):
        (directory / "static").mkdir(exist_ok=True)  # whitenoise warns at start-up when it is missing
    if os.environ.get("DEBUG", "").lower() in TRUE and not os.environ.get("SECRET_KEY"):
        _ensure_dev_secret_key(dev_secret_key_file())
    if needs_redis and not os.environ.get("REDIS_URL"):
        embedded_redis.ensure_running(directory)


def _ensure_dev_secret_key(path: Path) -> None:
    if path.exists():
        return
    # O_EXCL: when two processes race, one writes and the other keeps the first key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(50))
