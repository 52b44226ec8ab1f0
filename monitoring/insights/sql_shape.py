"""The shape of a SQL statement: literals and placeholder lists replaced, whitespace collapsed
(no Django). Two statements of one shape differ only by their values: an endpoint that runs one
shape many times per request is the N+1 pattern.
"""

from __future__ import annotations

import hashlib
import re

MAX_SHAPE = 2000

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.\"])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_PLACEHOLDER = re.compile(r"%s|\$\d+|\?|:\w+")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_VALUES = re.compile(r"(VALUES\s*\(\s*\?(?:\s*,\s*\?)*\s*\))(?:\s*,\s*\(\s*\?(?:\s*,\s*\?)*\s*\))+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def shape(sql: str) -> str:
    """`SELECT ... WHERE id = %s` and `... WHERE id = 7` alike become `SELECT ... WHERE id = ?`;
    `IN (%s, %s, %s)` becomes `IN (?...)`, whatever the list's length."""
    text = _STRING.sub("?", sql)
    text = _PLACEHOLDER.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _VALUES.sub(r"\1, ...", text)
    text = _LIST.sub("(?...)", text)
    return _SPACE.sub(" ", text).strip()[:MAX_SHAPE]


def key(shape_text: str) -> str:
    """A short stable id of a shape (Redis field names, finding subjects)."""
    return hashlib.blake2b(shape_text.encode(), digest_size=8).hexdigest()
