"""Small stream adapters shared by the pipeline: hashing/counting writers and readers."""

from __future__ import annotations

import hashlib
from typing import BinaryIO, Protocol

COPY_BLOCK = 1024 * 1024


class Writable(Protocol):
    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...


class HashingWriter:
    """Counts and SHA-256-hashes what passes through to `sink` (the archive as stored)."""

    def __init__(self, sink: Writable):
        self._sink = sink
        self._hash = hashlib.sha256()
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._hash.update(data)
        self._sink.write(data)
        size = len(data)
        self.count += size
        return size

    def flush(self) -> None:
        pass

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class HashingReader:
    """Counts and SHA-256-hashes what is read from `source`; `drain()` reads to the end."""

    def __init__(self, source: BinaryIO):
        self._source = source
        self._hash = hashlib.sha256()
        self.count = 0
        self.closed = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._hash.update(data)
        self.count += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(COPY_BLOCK):
            pass

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        self.closed = True


def read_exact(stream: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = stream.read(min(remaining, COPY_BLOCK))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)
