"""Anomaly detection engine: plain Python (numpy, scikit-learn), no Django.

- ``MetricDetector``: online per-metric detector (several models that must agree,
  alerts that must persist), resumable from ``to_state()``.
- ``MultivariateDetector``: Isolation Forest over several metrics of one host.
- ``nab_scoring``: the Numenta Anomaly Benchmark's scoring, reimplemented.
- ``replay``: read a ``timestamp,value`` CSV and stream it through a detector.
"""

from __future__ import annotations

from .config import DetectorConfig
from .detector import MODELS, MetricDetector, Verdict

__all__ = ["MODELS", "DetectorConfig", "MetricDetector", "Verdict"]
