"""Progress of long jobs, as core sees it.

Core sits below realtime and may not import it, so the reporter is a setting
(`PROGRESS_REPORTER`, realtime's `progress_report` by default): core's jobs call
`report_progress` and realtime delivers it to the owner's sockets.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def _reporter() -> Callable[..., None]:
    return import_string(settings.PROGRESS_REPORTER)


def report_progress(*, user_id: int, task_id: str, progress: int, status: str, message: str = "") -> None:
    _reporter()(user_id=user_id, task_id=task_id, progress=progress, status=status, message=message)
