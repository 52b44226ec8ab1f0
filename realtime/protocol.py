"""The client side of the WebSocket protocol: close codes, error codes, frame checks.

Every check raises `ProtocolError`, which the consumer turns into an `error` event;
the socket stays open.
"""

from __future__ import annotations

import json
import re
from typing import Any

CLOSE_UNAUTHORIZED = 4401  # no/invalid/expired token
# The flood close code is a setting (REALTIME_FLOOD_CLOSE_CODE, 4429 by default).

ROOM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
COURSE_ROOM = re.compile(r"^course-(\d{1,18})$")
MAX_TASK_ID = 200


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
    return frame


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


def task_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("task_id")
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_TASK_ID:
        raise ProtocolError("invalid_field", "`task_id` must be a job's task id.", field="task_id")
    return value
