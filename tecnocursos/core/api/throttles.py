"""Failed logins are throttled per username and per client address.

Only failures count: a user who types the password right is never slowed down by
others sharing the address, but guessing is capped at N tries per window for one
account (from anywhere) and M tries per window from one address (any account).
Counters live in the shared cache (Redis), so every web process sees the same
count. When the cache is down the throttle lets requests through: logins keep
working during a Redis outage, unthrottled for its duration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)


def _username_key(request: Request) -> str | None:
    # The body may be any JSON (a list, a string): only an object carries a username.
    data = request.data
    username = data.get("username") if isinstance(data, Mapping) else None
    if isinstance(username, str) and username:
        return f"login-fail:user:{username.strip().lower()[:150]}"
    return None


def _keys(request: Request, ident: str | None) -> list[tuple[str, int]]:
    keys = [(f"login-fail:addr:{ident}", settings.LOGIN_FAILURES_PER_ADDRESS)]
    if (user_key := _username_key(request)) is not None:
        keys.append((user_key, settings.LOGIN_FAILURES_PER_USERNAME))
    return keys


class LoginFailureThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            for key, limit in _keys(request, self.get_ident(request)):
                if (cache.get(f"{key}:count") or 0) >= limit:
                    reset_at = cache.get(f"{key}:reset") or time.time() + settings.LOGIN_FAILURE_WINDOW_SECONDS
                    self.retry_after = max(1.0, reset_at - time.time())
                    return False
        except Exception:
            logger.warning("login throttle: cache unavailable, not throttling", exc_info=True)
        return True

    def wait(self) -> float | None:
        return self.retry_after

    def record_failure(self, request: Request) -> None:
        window = settings.LOGIN_FAILURE_WINDOW_SECONDS
        try:
            for key, _limit in _keys(request, self.get_ident(request)):
                # The window starts at the first failure; `add` keeps it from sliding.
                cache.add(f"{key}:reset", time.time() + window, timeout=window)
                if not cache.add(f"{key}:count", 1, timeout=window):
                    cache.incr(f"{key}:count")
        except Exception:
            logger.warning("login throttle: cache unavailable, failure not counted", exc_info=True)

    def record_success(self, request: Request) -> None:
        user_key = _username_key(request)
        if user_key is not None:
            try:
                cache.delete_many([f"{user_key}:{s}" for s in ("count", "reset")])
            except Exception:
                logger.warning("login throttle: cache unavailable", exc_info=True)
