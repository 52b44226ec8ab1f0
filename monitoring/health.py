"""Health checks: database, cache, channel layer round trip, Celery workers, disk space.

Each check reports `ok` or `fail`, its latency and whether it is critical (the
MONITORING_HEALTH_CRITICAL setting). Overall: `unhealthy` when a critical check fails
(503), `degraded` when another one does, `healthy` otherwise. A report is reused for
MONITORING_HEALTH_CACHE_SECONDS, and only one is computed at a time per process, so a
load balancer asking every second costs one round of checks per second per process.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.db import connections

from monitoring import redis_store
from tecnocursos.cache.selectors import cache_health

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"


class CheckFailed(Exception):
    """A check's failure, with the reason shown to staff."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    critical: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "fail", "latency_ms": self.latency_ms, "critical": self.critical,
                "detail": self.detail}


def check_database() -> str:
    with connections[settings.MONITORING_HEALTH_DATABASE].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connections[settings.MONITORING_HEALTH_DATABASE].vendor


def check_cache() -> str:
    # A key nobody sets: an L1 miss, so a real round trip to L2 (which notices an outage).
    caches["default"].get("monitoring:health:probe")
    health = cache_health()
    if health.get("status") != "ok":
        raise CheckFailed(f"L2 {health.get('l2')}, coherence {health.get('coherence')}")
    return f"L2 {health.get('l2')}"


# One reply channel per event loop and layer, reused: a new one per check would leave a
# subscription behind each time (pub/sub layers subscribe in new_channel()).
_channels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, str]] = weakref.WeakKeyDictionary()


async def _reply_channel(layer: Any) -> str:
    loop = asyncio.get_running_loop()
    cached = _channels.get(loop)
    if cached is None or cached[0] is not layer:
        cached = _channels[loop] = (layer, await layer.new_channel("monitoring.health."))
    return cached[1]


async def _layer_round_trip(timeout: float) -> None:
    layer = get_channel_layer()
    if layer is None:
        raise CheckFailed("no channel layer configured")
    token = uuid.uuid4().hex

    async def round_trip() -> None:
        channel = await _reply_channel(layer)
        await layer.send(channel, {"type": "health.ping", "token": token})
        while (await layer.receive(channel)).get("token") != token:
            pass  # a late answer to an earlier check that timed out

    try:
        await asyncio.wait_for(round_trip(), timeout)
    except BaseException:
        _channels.pop(asyncio.get_running_loop(), None)  # a cancelled receive drops its channel
        raise


def check_channel_layer() -> str:
    try:
        async_to_sync(_layer_round_trip)(float(settings.MONITORING_HEALTH_TIMEOUT))
    except TimeoutError as exc:
        raise CheckFailed("no answer within the timeout") from exc
    return "round trip"


def check_celery() -> str:
    fresh = redis_store.workers(fresh_within=3 * float(settings.MONITORING_WORKER_HEARTBEAT_SECONDS))
    if not fresh:
        raise CheckFailed("no worker heartbeat")
    return f"{len(fresh)} worker(s)"


def check_disk() -> str:
    stat = os.statvfs(settings.MONITORING_DATA_PATH)
    free = 100.0 * stat.f_bavail / stat.f_blocks if stat.f_blocks else 0.0
    minimum = float(settings.MONITORING_HEALTH_DISK_MIN_FREE_PERCENT)
    if free < minimum:
        raise CheckFailed(f"{free:.1f}% free, below {minimum:g}%")
    return f"{free:.1f}% free"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "celery": check_celery,
    "disk": check_disk,
}


def run_check(name: str, check: Callable[[], str]) -> CheckResult:
    start = time.perf_counter()
    try:
        detail, ok = check(), True
    except CheckFailed as exc:
        detail, ok = str(exc), False
    except Exception as exc:  # a dependency down: any error is the check's failure
        detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
    latency = round((time.perf_counter() - start) * 1000, 3)
    return CheckResult(name, ok, latency, name in settings.MONITORING_HEALTH_CRITICAL, detail)


@dataclass(frozen=True)
class HealthReport:
    status: str
    checks: dict[str, CheckResult]
    checked_at: float

    @property
    def failed(self) -> list[str]:
        return [name for name, result in self.checks.items() if not result.ok]


def evaluate(checks: dict[str, Callable[[], str]] | None = None) -> HealthReport:
    results = {name: run_check(name, check) for name, check in (checks or CHECKS).items()}
    if any(not r.ok and r.critical for r in results.values()):
        status = UNHEALTHY
    elif any(not r.ok for r in results.values()):
        status = DEGRADED
    else:
        status = HEALTHY
    return HealthReport(status, results, time.time())


_lock = threading.Lock()
_last: HealthReport | None = None


def report() -> HealthReport:
    """The current report: a recent one if there is one, otherwise computed now."""
    global _last
    max_age = float(settings.MONITORING_HEALTH_CACHE_SECONDS)
    last = _last
    if last is not None and time.time() - last.checked_at < max_age:
        return last
    with _lock:
        last = _last
        if last is not None and time.time() - last.checked_at < max_age:
            return last  # computed by the caller we waited for
        _last = evaluate()
        return _last


def forget() -> None:
    """Drop the reused report (tests, and after an operator changed something)."""
    global _last
    _last = None
