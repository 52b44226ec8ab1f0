"""Trimming every process's L1 cache (the default of MONITORING_OPTIMIZER_L1_TRIM).

The L1 tier lives in each process. This one's is cleared directly and the others are told
through the cache's own coherence channel, with the message a full clear sends (L2, the
shared tier, is left alone: entries come back from it on the next reads).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches

from tecnocursos.cache import coherence
from tecnocursos.cache.backend import HierarchicalCacheBackend
from tecnocursos.cache.selectors import cache_stats


def l1_trim_everywhere() -> dict[str, Any]:
    """Clear L1 in every process; the items and bytes they held (all processes)."""
    backend = caches["default"]
    if not isinstance(backend, HierarchicalCacheBackend):
        raise RuntimeError("the default cache is not the hierarchical cache: there is no L1 to trim")
    before = cache_stats()["l1"]
    engine = backend.engine
    engine.l1.clear()
    if engine.l2 is not None:
        engine.l2.publish(engine.channel, coherence.clear_message(engine.origin))
    return {"items": int(before["items"] or 0), "bytes": int(before["bytes"] or 0)}
