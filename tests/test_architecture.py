"""The dependency direction of ../shared/ARCHITECTURE.md, and lint, as tests."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("tecnocursos", "realtime", "backups", "monitoring", "analytics")
# What each app may import from the others (besides itself).
ALLOWED = {
    "tecnocursos": set(),
    "realtime": {"tecnocursos"},
    "backups": {"tecnocursos", "realtime.services"},
    "monitoring": {"tecnocursos", "realtime.services"},
    "analytics": {"tecnocursos", "realtime", "backups", "monitoring"},
}
# Composition roots wire every app together.
ROOTS = {"tecnocursos/urls.py", "tecnocursos/asgi.py"}
# Being rewritten as classes (issue 8, part 4): their mypy errors leave with the rewrite.
def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def allowed(module: str, rules: set[str]) -> bool:
    return any(module == rule or module.startswith(rule + ".") for rule in rules)


def test_apps_import_only_what_the_architecture_allows():
    violations = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = str(path.relative_to(ROOT))
            if relative in ROOTS or "/migrations/" in relative:
                continue
            for module in imported_modules(path):
                top = module.split(".")[0]
                if top in APPS and top != app and not allowed(module, ALLOWED[app]):
                    violations.append(f"{relative} imports {module}")
    assert violations == []


def test_the_code_is_ruff_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_mypy_clean():
    # The Django plugin imports the settings, which want a SECRET_KEY when DEBUG is off.
    env = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY") or "mypy-only"}
    result = subprocess.run([sys.executable, "-m", "mypy", *APPS], cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
