"""Pre/post hooks: callables named in the BACKUP_HOOKS setting, called with `run=`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from tecnocursos.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


class HookFailed(Exception):
    pass


def _resolve(name: str) -> Callable[..., Any]:
    path = settings.BACKUP_HOOKS.get(name)
    if path is None:
        raise ApplicationError(f"hook {name!r} is not in BACKUP_HOOKS")
    hook: Callable[..., Any] = import_string(path)
    return hook


def run_pre_hooks(names: list[str], run: Any) -> None:
    """Any failure aborts the run: a pre-hook is a precondition (flush a queue, lock a writer)."""
    for name in names:
        try:
            _resolve(name)(run=run)
        except Exception as exc:
            raise HookFailed(f"pre-hook {name!r} failed: {type(exc).__name__}: {exc}") from exc


def run_post_hooks(names: list[str], run: Any) -> list[str]:
    """Post-hooks run whatever the outcome; their failures are reported, not raised."""
    errors = []
    for name in names:
        try:
            _resolve(name)(run=run)
        except Exception as exc:
            logger.exception("backup post-hook %s failed for run %s", name, run.pk)
            errors.append(f"post-hook {name!r} failed: {type(exc).__name__}: {exc}")
    return errors
