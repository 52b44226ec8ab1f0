from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tecnocursos.lib.redis_urls import RedisUrls


def test_redis_urls_for_tcp_are_used_as_given():
    urls = RedisUrls.parse("redis://127.0.0.1:6379/2")
    assert urls.redis_py == urls.kombu == "redis://127.0.0.1:6379/2"


def test_redis_urls_for_a_unix_socket_are_spelled_for_kombu():
    urls = RedisUrls.parse("unix:///tmp/r.sock?db=3")
    assert urls.kombu == "redis+socket:///tmp/r.sock?virtual_host=3"


def test_a_bad_redis_url_is_refused():
    with pytest.raises(ValueError, match="REDIS_URL"):
        RedisUrls.parse("http://nope")


def test_a_bad_redis_url_is_a_configuration_error_at_start_up(tmp_path):
    env = {**os.environ, "SECRET_KEY": "x" * 50, "REDIS_URL": "http://nope", "TECNOCURSOS_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", "import tecnocursos.settings"], env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0 and "ImproperlyConfigured: REDIS_URL must start with" in result.stderr


def test_settings_refuse_to_start_without_secret_key_in_production(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(DEBUG="false", TECNOCURSOS_VAR_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:1/0")
    result = subprocess.run([sys.executable, "-c", "import tecnocursos.settings"], env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_runstack_refuses_a_port_in_use_with_a_message(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "SECRET_KEY": "x" * 50, "TECNOCURSOS_VAR_DIR": str(tmp_path)}
        result = subprocess.run([sys.executable, "manage.py", "runstack", "--port", str(port)], env=env,
                                cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
