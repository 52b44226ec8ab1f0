"""The engine is plain Python: nothing in monitoring/anomaly imports Django or the project."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "monitoring" / "anomaly"
FORBIDDEN = {"django", "rest_framework", "tecnocursos", "realtime", "monitoring"}


def test_the_engine_imports_no_django_and_no_project_module():
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] in FORBIDDEN]
    assert offenders == []
