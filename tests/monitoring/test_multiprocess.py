"""Two real daphne processes: their request counts add up exactly in /metrics and in the rollups."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitoring import services
from monitoring.models import RequestRollup, Tier
from tests.realtime.test_multiprocess import BIN, ROOT, free_port, server_env, wait_until_serving

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOKEN = "multiprocess-scrape-token"


@pytest.fixture
def two_daphnes(tmp_path: Path) -> Iterator[list[int]]:
    env = {**server_env(tmp_path), "METRICS_TOKEN": TOKEN, "MONITORING_FLUSH_SECONDS": "0.3"}
    ports = [free_port(), free_port()]
    processes = [subprocess.Popen([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port),
                                   "tecnocursos.asgi:application"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_serving(port, process)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers),
                                    timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def request_counts(port: int) -> dict[tuple[str, str], float]:
    status, body = get(port, "/metrics", TOKEN)
    assert status == 200
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "http_requests":
            for sample in family.samples:
                if sample.name == "http_requests_total":
                    counts[(sample.labels["route"], sample.labels["status"])] = sample.value
    return counts


def test_counts_from_two_daphne_processes_add_up_exactly(two_daphnes):
    port_a, port_b = two_daphnes
    for _ in range(30):
        assert get(port_a, "/api/uploads/")[0] == 401
    for i in range(20):
        assert get(port_b, "/api/uploads/")[0] == 401
        assert get(port_b, f"/api/uploads/{i + 1}/")[0] == 401
    deadline = time.monotonic() + 20
    counts: dict[tuple[str, str], float] = {}
    while time.monotonic() < deadline:
        counts = request_counts(port_a)  # asked of A: B's counts must be there too
        if counts.get(("upload-list", "401")) == 50 and counts.get(("upload-detail", "401")) == 20:
            break
        time.sleep(0.2)
    assert counts.get(("upload-list", "401")) == 50
    assert counts.get(("upload-detail", "401")) == 20
    assert request_counts(port_b)[("upload-list", "401")] == 50  # the same answer from either process

    services.requests_rollup(now=time.time() + 600)
    for tier in (Tier.MINUTE, Tier.HOUR):
        rows = RequestRollup.objects.filter(tier=tier, route="upload-list")
        assert sum(row.count for row in rows) == 50
        assert sum(row.client_errors for row in rows) == 50
