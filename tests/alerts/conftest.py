"""Alert fixtures: clean monitoring state (shared with tests/monitoring), samples at chosen times,
rules, and a local HTTP server that plays a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.monitoring.conftest import clean_monitoring_state, flush  # noqa: F401 (autouse: Redis keys, recorder)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@pytest.fixture
def t0() -> float:
    """A fake clock's start: now, so that samples taken "later" count as fresh."""
    return float(int(datetime.now(tz=UTC).timestamp()))


def sample(moment: float, host: str = "h1", **values: Any):
    from monitoring.models import SystemSnapshot

    return SystemSnapshot.objects.create(timestamp=at(moment), host=host, **values)


def make_rule(**fields: Any):
    from monitoring.alerting.models import AlertRule

    defaults: dict[str, Any] = {"name": f"rule-{AlertRule.objects.count()}", "metric": "cpu_percent",
                                "kind": "static", "threshold": 90.0, "severity": "warning",
                                "repeat_interval_seconds": 0}
    rule = AlertRule(**{**defaults, **fields})
    rule.full_clean()
    rule.save()
    return rule


def evaluate(rule, moment: float) -> str:
    from monitoring.alerting import services

    outcome = services.rules_evaluate(now=at(moment), rule_ids=[rule.id])
    return next(iter(outcome))


@pytest.fixture
def no_default_rules(db) -> None:
    from monitoring.alerting.models import AlertRule

    AlertRule.objects.update(enabled=False)


class Receiver:
    """What the local webhook server got, and what it answers next."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.statuses: list[int] = []  # answered in order; then 200
        self.delay = 0.0
        self.lock = threading.Lock()
        self.url = ""

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.bodies.append(json.loads(body))
                state.headers.append(dict(self.headers))
            if state.delay:
                threading.Event().wait(state.delay)
            status = state.next_status()
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


def later(moment: float, **delta: float) -> float:
    return moment + timedelta(**delta).total_seconds()
