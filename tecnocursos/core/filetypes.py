"""File inspection for uploads: checksum, type from content, text extraction.

Plain Python (no Django): the type comes from the bytes, never from the name or
the client's Content-Type, which are only hints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

CHUNK = 1024 * 1024

# (offset, magic bytes, MIME type); the first match wins.
_SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1f\x8b", "application/gzip"),
]


@dataclass(frozen=True)
class Inspection:
    size: int
    checksum: str
    detected_type: str
    text: str


def detect_type(head: bytes) -> str:
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    for offset, magic, mime in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if _looks_like_text(head):
        return "text/plain"
    return "application/octet-stream"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


class ByteStream(Protocol):
    """What `inspect` reads from: a binary file, Django's FieldFile, an in-memory buffer."""

    def read(self, size: int, /) -> bytes: ...


def inspect(
    stream: ByteStream,
    *,
    text_limit: int,
    on_progress: Callable[[int], None] | None = None,
) -> Inspection:
    """Read the stream once: hash, size, type and (for text) the first `text_limit` chars."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    text_bytes = bytearray()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        if not head:
            head = chunk[:8192]
        if len(text_bytes) < text_limit * 4:
            text_bytes += chunk[: text_limit * 4 - len(text_bytes)]
        size += len(chunk)
        if on_progress:
            on_progress(size)
    detected = detect_type(head)
    text = ""
    if detected == "text/plain":
        text = bytes(text_bytes).decode("utf-8", errors="replace")[:text_limit]
    return Inspection(size=size, checksum=digest.hexdigest(), detected_type=detected, text=text)
