"""Settings describe and start nothing; the embedded Redis lives exactly as long as the process
that started it: a test session leaves no server behind, whether it passes, fails or is
interrupted, and a process that found one running reuses it without stopping it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tecnocursos.lib import embedded_redis

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def embedded_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    return {**env, "TECNOCURSOS_VAR_DIR": str(var_dir), "PYTHONPATH": str(ROOT), **extra}


def servers_for(var_dir: Path) -> list[psutil.Process]:
    socket = str(embedded_redis.socket_path(var_dir))
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            if socket in " ".join(process.info["cmdline"] or []):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def run_probe(var_dir: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/probes/embedded_probe.py"],
        cwd=ROOT, env=embedded_env(var_dir, PROBE=mode), capture_output=True, text=True, timeout=120)


def test_importing_the_settings_starts_and_writes_nothing(tmp_path):
    var_dir = tmp_path / "var"
    env = embedded_env(var_dir, DEBUG="false", SECRET_KEY="x" * 50)
    result = subprocess.run([sys.executable, "-c", "import tecnocursos.settings as s; print(s.REDIS_URL)"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == embedded_redis.url(var_dir)
    assert not var_dir.exists() and servers_for(var_dir) == []


@pytest.mark.parametrize("mode", ["pass", "fail"])
def test_a_test_session_stops_its_embedded_redis_when_it_ends(tmp_path, mode):
    result = run_probe(tmp_path, mode)
    assert "PROBE-READY" in result.stdout, result.stdout + result.stderr
    assert result.returncode == (0 if mode == "pass" else 1)
    assert servers_for(tmp_path) == []
    assert not embedded_redis.is_running(tmp_path)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_an_interrupted_session_leaves_no_server(tmp_path, how):
    probe = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/probes/embedded_probe.py"],
        cwd=ROOT, env=embedded_env(tmp_path, PROBE="wait"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        for line in probe.stdout:  # type: ignore[union-attr]
            if "PROBE-READY" in line:
                break
        assert servers_for(tmp_path), "the probe's server should be running now"
        probe.send_signal(how)
        probe.wait(timeout=30)
    finally:
        probe.kill()
    psutil.wait_procs(servers_for(tmp_path), timeout=10)
    assert servers_for(tmp_path) == []


def test_a_process_that_finds_a_server_reuses_it_and_leaves_it_running(tmp_path):
    assert embedded_redis.ensure_running(tmp_path) is True
    try:
        result = run_probe(tmp_path, "pass")
        assert result.returncode == 0, result.stdout + result.stderr
        assert embedded_redis.is_running(tmp_path)  # the probe did not own it, so did not stop it
        assert len(servers_for(tmp_path)) == 1
    finally:
        embedded_redis.shutdown(tmp_path)
    assert not embedded_redis.is_running(tmp_path)
