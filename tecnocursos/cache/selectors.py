"""Reads: cache statistics (summed over every process through Redis) and health."""

from __future__ import annotations

from typing import Any, TypedDict

from django.core.cache import caches

from tecnocursos.cache.backend import HierarchicalCacheBackend
from tecnocursos.core.exceptions import ApplicationError


class TierStats(TypedDict):
    hits: int
    misses: int
    hit_rate: float
    items: int | None
    bytes: int | None


def _backend(alias: str) -> HierarchicalCacheBackend:
    backend = caches[alias]
    if not isinstance(backend, HierarchicalCacheBackend):
        raise ApplicationError(f"cache {alias!r} is not the hierarchical cache", status_code=503)
    return backend


def _rate(hits: int, misses: int) -> float:
    return round(hits / (hits + misses), 4) if hits + misses else 0.0


def cache_stats(*, alias: str = "default") -> dict[str, Any]:
    """L1 and L2 figures for every live process (this one only when Redis is down)."""
    engine = _backend(alias).engine
    shared = engine.shared_stats()
    if shared is None:
        counters, processes, scope = engine.counters(), [engine.process_snapshot()], "process"
    else:
        counters, processes, scope = shared["counters"], shared["processes"], "cluster"
    count = counters.get
    l1_hits, l1_misses = count("l1_hits", 0), count("l1_misses", 0)
    l2_hits, l2_misses = count("l2_hits", 0), count("l2_misses", 0)
    l2_size = engine.l2_size()
    return {
        "scope": scope,
        "l1": {
            "hits": l1_hits,
            "misses": l1_misses,
            "hit_rate": _rate(l1_hits, l1_misses),
            "items": sum(p["l1"]["items"] for p in processes),
            "bytes": sum(p["l1"]["bytes"] for p in processes),
            "evictions": count("evictions", 0),
            "promotions": count("promotions", 0),
        },
        "l2": {
            "hits": l2_hits,
            "misses": l2_misses,
            "hit_rate": _rate(l2_hits, l2_misses),
            "items": l2_size["items"],
            "bytes": l2_size["bytes"],
            "complete": l2_size["complete"],
        },
        "hits": l1_hits + l2_hits,
        "misses": l2_misses if engine.l2 is not None else l1_misses,
        "hit_rate": _rate(l1_hits + l2_hits, l2_misses if engine.l2 is not None else l1_misses),
        "sets": count("sets", 0),
        "deletes": count("deletes", 0),
        "invalidations": count("invalidations", 0),
        "errors": count("errors", 0),
        "processes": processes,
        "health": engine.health(),
    }


def cache_health(*, alias: str = "default") -> dict[str, Any]:
    return _backend(alias).health()


def cache_metrics_lines(*, alias: str = "default") -> list[str]:
    """Prometheus exposition lines, for the /metrics endpoint."""
    stats = cache_stats(alias=alias)
    lines = []
    for tier in ("l1", "l2"):
        for name in ("hits", "misses"):
            lines.append(f'tecnocursos_cache_{name}_total{{tier="{tier}"}} {stats[tier][name]}')
        for name in ("items", "bytes"):
            if stats[tier][name] is not None:
                lines.append(f'tecnocursos_cache_{name}{{tier="{tier}"}} {stats[tier][name]}')
    for name in ("sets", "deletes", "invalidations", "errors"):
        lines.append(f"tecnocursos_cache_{name}_total {stats[name]}")
    lines.append(f"tecnocursos_cache_evictions_total {stats['l1']['evictions']}")
    lines.append(f"tecnocursos_cache_promotions_total {stats['l1']['promotions']}")
    lines.append(f"tecnocursos_cache_up {1 if stats['health']['status'] == 'ok' else 0}")
    return lines
