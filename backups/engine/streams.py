"""Small stream adapters shared by the pipeline: hashing/counting writers and readers."""

from __future__ import annotations

import hashlib
import queue
import sys
import threading
from typing import Protocol

COPY_BLOCK = 1024 * 1024


class Writable(Protocol):
    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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

    def __init__(self, source: Readable, *, hashing: bool = True):
        self._source = source
        self._hash = hashlib.sha256()
        self.hashing = hashing
        self.count = 0
        self.closed = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        if self.hashing:
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


def read_exact(stream: Readable, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = stream.read(min(remaining, COPY_BLOCK))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


class ReadAhead:
    """Reads `source` in a background thread, up to `depth` blocks ahead of the caller.

    Decryption and decompression then overlap with what the caller does with the data
    (parsing, hashing, writing files): each side spends most of its time in C code that
    releases the GIL. Memory stays bounded by `depth` blocks. An error in the thread is
    raised by the caller's next read. `close()` stops the thread (always call it).
    """

    def __init__(self, source: Readable, *, block: int = COPY_BLOCK, depth: int = 8):
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._buffer = memoryview(b"")
        self._eof = False
        self._thread = threading.Thread(target=self._run, args=(source, block), name="backup-read-ahead",
                                        daemon=True)
        self._thread.start()

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, source: Readable, block: int) -> None:
        try:
            while data := source.read(block):
                if not self._put(data):
                    return
            self._put(None)
        except BaseException as exc:  # handed to the reader, raised there
            self._put(exc)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (one block at most: short reads, never a copy of a whole block)."""
        wanted = size if size is not None and size >= 0 else sys.maxsize
        if not self._buffer:
            if self._eof:
                return b""
            item = self._queue.get()
            if item is None or isinstance(item, BaseException):
                self._eof = True
                if item is not None:
                    raise item
                return b""
            if len(item) <= wanted:
                return item
            self._buffer = memoryview(item)
        piece = self._buffer[:wanted]
        self._buffer = self._buffer[len(piece):]
        return bytes(piece)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
