"""How a Celery worker's pool should change (no Django): grow by one when tasks wait beyond what
the pool can take, shrink by one when the queue stayed empty, always within [minimum, maximum]."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PoolPolicy:
    minimum: int = 1
    maximum: int = 8
    grow_per_process: float = 10.0  # tasks waiting per pool process that justify one more
    shrink_after_idle_samples: int = 30  # samples in a row with nothing waiting (5 min at 10 s)


def pool_change(*, waiting: Sequence[float], current: int, policy: PoolPolicy) -> tuple[int, str]:
    """(+1, -1 or 0, why) from the recent queue lengths (oldest first) and the pool's size now."""
    if not waiting:
        return 0, "no queue samples"
    latest = waiting[-1]
    if current < policy.minimum:
        return 1, f"below the minimum of {policy.minimum}"
    if current > policy.maximum:
        return -1, f"above the maximum of {policy.maximum}"
    if latest >= policy.grow_per_process * current and latest >= waiting[0]:
        if current >= policy.maximum:
            return 0, f"{latest:g} tasks waiting, but already at the maximum of {policy.maximum}"
        return 1, f"{latest:g} tasks waiting for {current} process(es), not draining"
    recent = waiting[-policy.shrink_after_idle_samples:]
    if len(recent) >= policy.shrink_after_idle_samples and max(recent) == 0 and current > policy.minimum:
        return -1, f"nothing waiting over the last {len(recent)} samples"
    return 0, "within bounds"
