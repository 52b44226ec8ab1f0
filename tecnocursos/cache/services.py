"""Writes: clearing the cache, all of it or by tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from tecnocursos.cache.selectors import _backend


class ClearResult(TypedDict):
    cleared: str
    tags: list[str]
    invalidated: int | None


def cache_clear(*, tags: Sequence[str] | None = None, alias: str = "default") -> ClearResult:
    """Every entry of the namespace (tags=None), or those stored with one of `tags`."""
    backend = _backend(alias)
    if tags is None:
        backend.clear()
        return {"cleared": "all", "tags": [], "invalidated": None}
    return {"cleared": "tags", "tags": list(tags), "invalidated": backend.invalidate_tags(tags)}
