"""The read-ahead thread behind archive reading: order, errors, and no thread left behind."""

from __future__ import annotations

import io
import threading

import pytest

from backups.engine.streams import ReadAhead


def test_it_returns_the_stream_in_order_with_short_reads():
    data = bytes(range(256)) * 10000
    reader = ReadAhead(io.BytesIO(data), block=4096, depth=2)
    parts = []
    while block := reader.read(1000):
        parts.append(block)
    reader.close()
    assert b"".join(parts) == data


class Exploding(io.RawIOBase):
    def __init__(self):
        self.calls = 0

    def read(self, size=-1):
        self.calls += 1
        if self.calls > 2:
            raise ValueError("disk on fire")
        return b"x" * 10


def test_an_error_in_the_thread_is_raised_by_the_reader():
    reader = ReadAhead(Exploding(), block=10)
    with pytest.raises(ValueError, match="disk on fire"):
        while reader.read(100):
            pass
    reader.close()


def test_close_stops_a_thread_blocked_on_a_full_queue():
    before = threading.active_count()
    reader = ReadAhead(io.BytesIO(b"y" * 10_000_000), block=1024, depth=1)
    reader.read(10)
    reader.close()
    assert threading.active_count() == before
