"""The optimizer's runs: each enabled action (MONITORING_OPTIMIZER_ACTIONS) when its condition
holds, or any action as a dry run; what was done (or would be) is recorded in
OptimizationAction. A periodic run that finds nothing to do records nothing.

A disabled action can only be previewed: running it for real needs the operator to enable it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from monitoring import selectors
from monitoring.models import SystemSnapshot
from monitoring.optimizer import files, paths
from monitoring.optimizer.models import OptimizationAction
from monitoring.optimizer.pool import PoolPolicy, pool_change
from tecnocursos.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)
Action = OptimizationAction.Action
HOUR = 3600.0


@dataclass
class Outcome:
    """What one action found to do: nothing (reason only), or changes (items, bytes, details)."""

    reason: str
    target: str = ""
    items: int = 0
    bytes_freed: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def did_something(self) -> bool:
        return bool(self.items or self.error)


def enabled_actions() -> list[str]:
    return [a for a in settings.MONITORING_OPTIMIZER_ACTIONS if a in Action.values]


def optimizations_run(*, actions: list[str] | None = None, dry_run: bool | None = None,
                      trigger: str = "schedule") -> list[OptimizationAction]:
    """Run the enabled actions (or those named); the audit rows written."""
    dry = bool(settings.MONITORING_OPTIMIZER_DRY_RUN) if dry_run is None else dry_run
    chosen = enabled_actions() if actions is None else actions
    unknown = [a for a in chosen if a not in Action.values]
    if unknown:
        raise ApplicationError(f"Unknown action(s): {', '.join(unknown)}; known: {', '.join(Action.values)}.")
    disabled = [a for a in chosen if a not in enabled_actions()]
    if disabled and not dry:
        raise ApplicationError(f"Not enabled in MONITORING_OPTIMIZER_ACTIONS: {', '.join(disabled)} "
                               "(run it as a dry run to preview).")
    rows = []
    for action in chosen:
        rows += _run(action, dry=dry, trigger=trigger)
    return rows


def _run(action: str, *, dry: bool, trigger: str) -> list[OptimizationAction]:
    started = timezone.now()
    try:
        outcomes = RUNNERS[action](dry)
    except Exception as exc:  # one action failing must not stop the others
        logger.exception("optimizer: %s failed", action)
        outcomes = [Outcome(reason="failed", error=f"{type(exc).__name__}: {exc}"[:2000])]
    rows = []
    for outcome in outcomes:
        if not outcome.did_something and not (dry and trigger != "schedule"):
            continue
        status = (OptimizationAction.Status.FAILED if outcome.error and not outcome.items
                  else OptimizationAction.Status.DRY_RUN if dry else OptimizationAction.Status.DONE)
        rows.append(OptimizationAction.objects.create(
            action=action, status=status, target=outcome.target[:500], reason=outcome.reason[:500],
            items=outcome.items, bytes_freed=outcome.bytes_freed, details=outcome.details, error=outcome.error,
            trigger=trigger, started_at=started, finished_at=timezone.now()))
    return rows


# --- files ------------------------------------------------------------------------------------------


def _roots(configured: list[str]) -> list[tuple[str, Any]]:
    """(configured, checked root or the UnsafeDirectory error) per allow-listed directory."""
    result: list[tuple[str, Any]] = []
    for directory in configured:
        try:
            result.append((directory, paths.checked_root(directory)))
        except paths.UnsafeDirectory as exc:
            result.append((directory, exc))
    return result


def _file_action(configured: list[str], work: Callable[[Any], files.Report], reason: str) -> list[Outcome]:
    outcomes = []
    for directory, root in _roots(configured):
        if isinstance(root, paths.UnsafeDirectory):
            outcomes.append(Outcome(reason="refused", target=directory, error=str(root)))
            continue
        report = work(root)
        outcomes.append(Outcome(reason=reason, target=str(root), items=report.count, bytes_freed=report.bytes_freed,
                                details={"files": report.files, "errors": report.errors[:50]},
                                error="; ".join(report.errors[:5])))
    return outcomes


def _temp_cleanup(dry: bool) -> list[Outcome]:
    age = float(settings.MONITORING_OPTIMIZER_TEMP_MAX_AGE_HOURS) * HOUR
    return _file_action(settings.MONITORING_OPTIMIZER_TEMP_DIRS,
                        lambda root: files.cleanup(root, older_than_seconds=age, now=time.time(), dry_run=dry),
                        f"files untouched for {settings.MONITORING_OPTIMIZER_TEMP_MAX_AGE_HOURS:g} h")


def _log_compress(dry: bool) -> list[Outcome]:
    age = float(settings.MONITORING_OPTIMIZER_LOG_COMPRESS_AFTER_HOURS) * HOUR
    return _file_action(settings.MONITORING_OPTIMIZER_LOG_DIRS,
                        lambda root: files.compress(root, older_than_seconds=age, now=time.time(), dry_run=dry),
                        f"rotated logs untouched for {settings.MONITORING_OPTIMIZER_LOG_COMPRESS_AFTER_HOURS:g} h")


def _log_prune(dry: bool) -> list[Outcome]:
    age = float(settings.MONITORING_OPTIMIZER_LOG_RETENTION_DAYS) * 24 * HOUR
    return _file_action(settings.MONITORING_OPTIMIZER_LOG_DIRS,
                        lambda root: files.prune(root, older_than_seconds=age, now=time.time(), dry_run=dry),
                        f"rotated logs older than {settings.MONITORING_OPTIMIZER_LOG_RETENTION_DAYS:g} days")


# --- L1 under memory pressure ------------------------------------------------------------------------


def _memory_percent() -> float | None:
    fresh = [s.memory_percent for s in selectors.snapshots_latest_per_host()
             if selectors.snapshot_is_fresh(s) and s.memory_percent is not None]
    return max(fresh) if fresh else None


def _l1_trim(dry: bool) -> list[Outcome]:
    memory = _memory_percent()
    limit = float(settings.MONITORING_OPTIMIZER_L1_TRIM_MEMORY_PERCENT)
    if memory is None or memory < limit:
        return [Outcome(reason=f"memory {memory if memory is not None else '?'}% below {limit:g}%")]
    reason = f"memory {memory:.1f}% at or above {limit:g}%"
    if dry:
        from tecnocursos.cache.selectors import cache_stats

        l1 = cache_stats()["l1"]
        return [Outcome(reason=reason, target="L1, every process", items=int(l1["items"] or 0),
                        bytes_freed=int(l1["bytes"] or 0))]
    freed = import_string(settings.MONITORING_OPTIMIZER_L1_TRIM)()
    return [Outcome(reason=reason, target="L1, every process", items=int(freed.get("items", 0)),
                    bytes_freed=int(freed.get("bytes", 0)), details=dict(freed))]


# --- Celery pool -----------------------------------------------------------------------------------------


def celery_control() -> Any:
    from tecnocursos.celery import app

    return app.control


def _queue_samples() -> list[float]:
    since = timezone.now() - timedelta(minutes=10)
    rows = (SystemSnapshot.objects.filter(timestamp__gte=since, celery_queue_length__isnull=False)
            .order_by("timestamp").values_list("celery_queue_length", flat=True))
    return [float(value) for value in rows]


def _pools(control: Any) -> dict[str, int]:
    """Workers whose pool can change (prefork) and their size now."""
    stats = control.inspect(timeout=1.0).stats() or {}
    pools = {}
    for worker, info in stats.items():
        pool = info.get("pool") or {}
        if "prefork" in str(pool.get("implementation", "")):
            pools[worker] = int(pool.get("max-concurrency") or len(pool.get("processes") or []) or 0)
    return pools


def _celery_pool(dry: bool, control: Any = None) -> list[Outcome]:
    control = control or celery_control()
    policy = PoolPolicy(minimum=settings.MONITORING_OPTIMIZER_CELERY_MIN_CONCURRENCY,
                        maximum=settings.MONITORING_OPTIMIZER_CELERY_MAX_CONCURRENCY,
                        grow_per_process=settings.MONITORING_OPTIMIZER_CELERY_GROW_PER_PROCESS)
    waiting = _queue_samples()
    outcomes = []
    for worker, size in sorted(_pools(control).items()):
        change, reason = pool_change(waiting=waiting, current=size, policy=policy)
        if change == 0:
            outcomes.append(Outcome(reason=reason, target=worker))
            continue
        if not dry:
            (control.pool_grow if change > 0 else control.pool_shrink)(1, destination=[worker])
        outcomes.append(Outcome(reason=reason, target=worker, items=1,
                                details={"from": size, "to": size + change, "waiting": waiting[-1:]}))
    return outcomes or [Outcome(reason="no prefork worker answered")]


RUNNERS: dict[str, Callable[[bool], list[Outcome]]] = {
    Action.TEMP_CLEANUP: _temp_cleanup,
    Action.LOG_COMPRESS: _log_compress,
    Action.LOG_PRUNE: _log_prune,
    Action.L1_TRIM: _l1_trim,
    Action.CELERY_POOL: _celery_pool,
}
