"""The alert engines are plain Python: no Django anywhere in their imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

ENGINES = ["lifecycle", "conditions", "baseline", "forecast", "scoring", "templates", "payloads"]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_engine_imports_without_django(engine):
    code = (f"import sys; import monitoring.alerting.{engine}; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'celery')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
