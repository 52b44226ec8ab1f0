"""Settings for bench/monitoring_bench.py's daphne servers: the project's, with the request
metrics variant named by BENCH_MIDDLEWARE (none, ours, django-prometheus) and a trivial endpoint."""

from __future__ import annotations

import os

from tecnocursos.settings import *  # noqa: F403
from tecnocursos.settings import MIDDLEWARE

OURS = "monitoring.middleware.RequestMetricsMiddleware"
_base = [m for m in MIDDLEWARE if m != OURS]
MIDDLEWARE = {
    "none": _base,
    "ours": [OURS, *_base],
    "django-prometheus": ["django_prometheus.middleware.PrometheusBeforeMiddleware", *_base,
                          "django_prometheus.middleware.PrometheusAfterMiddleware"],
}[os.environ.get("BENCH_MIDDLEWARE", "ours")]
ROOT_URLCONF = "monitoring_bench"
