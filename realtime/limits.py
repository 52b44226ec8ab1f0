"""Per-connection abuse limits (plain Python, no Django: easy to test alone)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class TokenBucket:
    """`rate` frames per second on average, up to `burst` at once."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> float:
        """Spend a token: 0.0 if allowed, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0 - 1e-9:  # clock arithmetic is float: don't refuse by a rounding error
            self.tokens = max(0.0, self.tokens - 1.0)
            return 0.0
        if self.rate <= 0:
            return float("inf")
        return (1.0 - self.tokens) / self.rate


class FloodGuard:
    """Counts refused frames; `strike()` is True once `strikes` fall within `window` seconds."""

    def __init__(self, strikes: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.strikes = strikes
        self.window = window
        self.clock = clock
        self.times: deque[float] = deque()

    def strike(self) -> bool:
        now = self.clock()
        self.times.append(now)
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        return len(self.times) >= self.strikes
