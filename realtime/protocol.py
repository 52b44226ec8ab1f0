"""The client side of the WebSocket protocol: close codes, error codes, frame checks.

Every check raises `ProtocolError`, which the consumer turns into an `error` event;
the socket stays open.
"""

from __future__ import annotations

import json
import re
from typing import Any

# 4401 (no, a bad or an expired token, or a deactivated user) is tecnocursos.core.channels_auth's.
CLOSE_TOO_MANY_SOCKETS = 4409  # the user already has REALTIME_MAX_SOCKETS_PER_USER sockets open
# The flood close code is a setting (REALTIME_FLOOD_CLOSE_CODE, 4429 by default).

ROOM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
COURSE_ROOM = re.compile(r"^course-(\d{1,18})$")
CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces: a UUID, a counter...
MAX_TASK_ID = 200
# JSON may carry what the database and UTF-8 cannot: NUL, and lone surrogates ("\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def decode(text: str | None, data: bytes | None) -> dict[str, Any]:
    if text is None:
        raise ProtocolError("bad_frame", "Binary frames are not supported; send JSON text.")
    try:
        frame = json.loads(text)
    except ValueError:
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise ProtocolError("bad_frame", "A frame must be a JSON object with a `type`.")
    if not isinstance(frame.get("type"), str):
        raise ProtocolError("missing_field", "The frame has no `type`.", field="type")
    for name, value in frame.items():
        if _has_unstorable(value):
            raise ProtocolError("invalid_field", f"`{name[:50]}` holds a NUL or a lone surrogate.",
                                field=name[:50])
    return frame


def _has_unstorable(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if depth > 10:  # frames are small (max frame bytes); nesting this deep is served as invalid anyway
        return False
    if isinstance(value, dict):
        return any(_has_unstorable(k, depth + 1) or _has_unstorable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unstorable(v, depth + 1) for v in value)
    return False


def room_name(value: Any) -> str:
    if value is None:
        raise ProtocolError("missing_field", "`room` is required.", field="room")
    if not isinstance(value, str) or not ROOM_NAME.match(value):
        raise ProtocolError(
            "invalid_room", "A room name has 1-100 letters, digits, '-', '_' or '.'.", field="room"
        )
    return value


def course_id(room: str) -> int | None:
    """The course a `course-<id>` room belongs to; None for public rooms."""
    match = COURSE_ROOM.match(room)
    return int(match.group(1)) if match else None


def is_course_room(room: str) -> bool:
    # The whole `course-` prefix is reserved: `course-abc` is not a public room.
    return room.startswith("course-")


def since(frame: dict[str, Any]) -> int | None:
    value = frame.get("since")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError("invalid_field", "`since` must be a chat id (an integer >= 0).", field="since")
    return value


def chat_text(frame: dict[str, Any], *, max_length: int) -> str:
    value = frame.get("message")
    if value is None:
        raise ProtocolError("missing_field", "`message` is required.", field="message")
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError("invalid_field", "`message` must be a non-empty string.", field="message")
    if len(value) > max_length:
        raise ProtocolError(
            "invalid_field", f"`message` is longer than {max_length} characters.", field="message"
        )
    return value


def client_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("client_id")
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise ProtocolError("invalid_field", "`client_id` has 1-64 printable ASCII characters, no spaces.",
                            field="client_id")
    return value


def task_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("task_id")
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_TASK_ID:
        raise ProtocolError("invalid_field", "`task_id` must be a job's task id.", field="task_id")
    return value
