"""Signals around every run: `backup_started(run=...)`, `backup_finished(run=..., ok=...)`."""

from __future__ import annotations

from django.dispatch import Signal

backup_started = Signal()
backup_finished = Signal()
