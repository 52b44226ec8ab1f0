"""Secrets out of log lines: tokens in query strings and passwords in URLs.

`redact(text)` is used by the access log of the daphne processes (tecnocursos/serve.py) and by
`RedactFilter`, which settings.LOGGING puts on every handler, so neither a WebSocket URL with
`?token=<jwt>` nor a `redis://:password@host` in an error message reaches a log line.
"""

from __future__ import annotations

import logging
import re

# `token=...`, `access_token=...`, `refresh=...`, `password=...` in a query string or a form.
_QUERY_SECRET = re.compile(r"(?i)\b((?:access_?|refresh_?)?token|refresh|access|password|secret)=([^&\s\"']+)")
# `scheme://user:password@host` in a URL.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)([^@\s/]+)(@)")
# A JWT anywhere (three base64url parts, the first one a JSON header).
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b")
MASK = "[redacted]"


def redact(text: str) -> str:
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    return _JWT.sub(MASK, text)


class RedactFilter(logging.Filter):
    """Rewrites each record's message (arguments included) without the secrets above."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
