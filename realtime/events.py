"""Event shapes and group names shared by consumers and services (no I/O)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def event(type_: str, **fields: Any) -> dict[str, Any]:
    """A server event: every frame has `type` and an ISO 8601 `timestamp`."""
    return {"type": type_, **fields, "timestamp": timezone.now().isoformat()}
