"""Alert messages from operators' templates, safely (no Django).

Rules carry a summary template such as "CPU at {value:.1f}% on {host}". Operators write them
in the admin, so formatting must not reach attributes or items (`{value.__class__}`) and a
mistake (an unknown field, a bad format spec) falls back to a plain message, never an error.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _SafeFormatter(string.Formatter):
    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if not field_name.isidentifier():  # "a.b", "a[0]", "0": attribute, item or positional access
            raise ValueError(f"unsupported field {field_name!r}")
        return super().get_field(field_name, args, kwargs)


_formatter = _SafeFormatter()


def render(template: str, fields: Mapping[str, Any], *, fallback: str) -> str:
    """`template` filled from `fields` (unknown names left as they are); `fallback` if it fails."""
    if not template:
        return fallback
    try:
        return _formatter.vformat(template, (), _Fields(fields))[:1000]
    except (ValueError, TypeError, KeyError, IndexError):
        return fallback


def humanize_seconds(seconds: float) -> str:
    """'~3 h', '~45 min', '~2 d': how time-to-full reads in a message."""
    if seconds < 3600:
        return f"~{max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"~{seconds / 3600:.0f} h" if seconds >= 10 * 3600 else f"~{seconds / 3600:.1f} h"
    return f"~{seconds / 86400:.1f} d"
