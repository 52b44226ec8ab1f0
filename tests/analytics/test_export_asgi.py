"""The export served by the real ASGI application (as daphne serves it): the body arrives in
several chunks, pulled one window at a time, never read whole first."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import ApplicationCommunicator

from monitoring.models import MetricRollup, Tier
from tests.conftest import access_token

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2026, 11, 20, tzinfo=UTC)


def seed() -> None:
    MetricRollup.objects.bulk_create([
        MetricRollup(tier=Tier.MINUTE, bucket=T0 + timedelta(minutes=i), host="h", metric="cpu_percent", count=1,
                     sum=float(i % 50), min=0.0, max=50.0) for i in range(24 * 60)])


async def test_the_download_streams_in_chunks_under_asgi(staff):
    from tecnocursos.asgi import application

    await sync_to_async(seed)()
    token = await sync_to_async(access_token)(staff)
    query = "format=json&metric=cpu.percent&step=minute&start=2026-11-20T00:00:00Z&end=2026-11-21T00:00:00Z"
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": "/api/analytics/export/metrics",
             "raw_path": b"/api/analytics/export/metrics", "query_string": query.encode(), "root_path": "",
             "scheme": "http", "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    app = ApplicationCommunicator(application, scope)
    await app.send_input({"type": "http.request", "body": b"", "more_body": False})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it must read a sync iterator whole
        start = await app.receive_output(timeout=10)
        assert start["status"] == 200
        assert dict(start["headers"])[b"Content-Disposition"].startswith(b"attachment")
        chunks = []
        while True:
            message = await app.receive_output(timeout=10)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
    assert len([c for c in chunks if c]) >= 5  # "[", four 6-hour windows, "]"
    rows = json.loads(b"".join(chunks))
    assert len(rows) == 24 * 60 and rows[0]["timestamp"] == "2026-11-20T00:00:00Z"
