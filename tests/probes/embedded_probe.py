"""Run by tests/core/test_embedded_redis_lifecycle.py in a pytest of its own (not collected by
the suite: the file name does not start with test_). It uses the embedded Redis, then passes,
fails, or waits to be interrupted, as PROBE says."""

from __future__ import annotations

import os
import time

from django.core.cache import caches


def test_probe():
    cache = caches["default"]
    cache.set("probe", 1)
    assert cache.get("probe") == 1
    print("PROBE-READY", flush=True)
    if os.environ.get("PROBE") == "wait":
        time.sleep(60)
    assert os.environ.get("PROBE") != "fail", "failing on purpose"
