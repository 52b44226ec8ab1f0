"""Cache tags shared by the apps that write data and the readers that cache figures about it.

Writers invalidate a tag after their change commits; readers (analytics' reports) tag what they
cache. The names live here, in core, so that writers need not import their readers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.cache import caches
from django.db import transaction

logger = logging.getLogger(__name__)

ANALYTICS_USERS = "analytics:users"  # users, logins, active-user days
ANALYTICS_CONTENT = "analytics:content"  # courses and uploads
ANALYTICS_PERFORMANCE = "analytics:performance"  # request and system rollups


def invalidate(tags: Iterable[str], *, alias: str = "default") -> None:
    """Drop every entry with one of these tags; a cache that is down only logs (it expires anyway)."""
    try:
        caches[alias].invalidate_tags(list(tags))  # type: ignore[attr-defined]
    except Exception:
        logger.warning("cache: could not invalidate %s", list(tags), exc_info=True)


def invalidate_on_commit(tags: Iterable[str], *, alias: str = "default") -> None:
    """After the current transaction commits (at once outside one): readers never cache the old state."""
    names = list(tags)
    transaction.on_commit(lambda: invalidate(names, alias=alias))
