"""How values are laid out in Redis.

    plain integers          ASCII digits, e.g. b"-42" (so INCRBY works on them in place)
    everything else         1 byte codec | 8 bytes expiry (ms since epoch, 0 = none) | payload

The codec byte says how the payload (a pickle) was compressed: NONE, ZLIB or ZSTD. Readers
go by the byte, not by the current setting, so the setting can change without breaking old
keys. The expiry lets an L2 hit be promoted to L1 with its remaining TTL without a second
round trip for PTTL. Pickle is only ever read back from our own Redis (docs/cache.md).
"""

from __future__ import annotations

import pickle
import struct
import threading
import zlib
from typing import Any

import zstandard

NONE = 0
ZLIB = 1
ZSTD = 2
_NAMES = {"none": NONE, "zlib": ZLIB, "zstd": ZSTD}
_HEADER = struct.Struct(">BQ")
HEADER_SIZE = _HEADER.size
_unpack_header = _HEADER.unpack_from
_loads = pickle.loads
_DIGITS_START = frozenset(b"-0123456789")


class CorruptValue(ValueError):
    """Bytes in Redis that are not something this codec wrote."""


def codec_id(name: str) -> int:
    try:
        return _NAMES[name]
    except KeyError:
        raise ValueError(f"unknown compressor {name!r}; use one of {sorted(_NAMES)}") from None


class _Zstd(threading.local):
    # zstandard contexts are not thread-safe: one pair per thread.
    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(level=3)
        self.decompressor = zstandard.ZstdDecompressor()


_zstd = _Zstd()


class Codec:
    def __init__(self, *, compressor: str = "zstd", min_compress_bytes: int = 1024):
        self.compressor = codec_id(compressor)
        self.min_compress_bytes = min_compress_bytes

    def encode(self, value: Any, expiry_ms: int = 0) -> tuple[bytes, bytes | None]:
        """(bytes for Redis, the plain pickle or None for integers) - L1 reuses the pickle."""
        if type(value) is int:
            return str(value).encode(), None
        try:
            pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # PicklingError, TypeError, AttributeError (local objects), ...
            raise TypeError(f"cache values must be picklable: {exc}") from exc
        codec, payload = NONE, pickled
        if self.compressor != NONE and len(pickled) >= self.min_compress_bytes:
            packed = _compress(self.compressor, pickled)
            if len(packed) < len(pickled):  # incompressible data stays as it is
                codec, payload = self.compressor, packed
        return _HEADER.pack(codec, expiry_ms) + payload, pickled

    def decode(self, raw: bytes) -> tuple[Any, int, bytes | None]:
        """(value, expiry in ms since epoch or 0, plain pickle or None); CorruptValue if unreadable."""
        if not raw:
            raise CorruptValue("empty value")
        first = raw[0]
        if first in _DIGITS_START:
            try:
                return int(raw), 0, None
            except ValueError:
                raise CorruptValue("not an integer") from None
        if len(raw) < HEADER_SIZE:
            raise CorruptValue("short header")
        codec, expiry_ms = _unpack_header(raw)
        try:
            if codec == ZSTD:  # the usual case for values over COMPRESS_MIN_BYTES
                pickled = _zstd.decompressor.decompress(memoryview(raw)[HEADER_SIZE:])
            elif codec == NONE:
                pickled = raw[HEADER_SIZE:]
            else:
                pickled = _decompress(codec, memoryview(raw)[HEADER_SIZE:])
            return _loads(pickled), expiry_ms, pickled
        except CorruptValue:
            raise
        except Exception as exc:  # zlib.error, ZstdError, UnpicklingError, EOFError, ...
            raise CorruptValue(f"{type(exc).__name__}: {exc}") from None


def with_expiry(raw: bytes, expiry_ms: int) -> bytes:
    """The same encoded value with its expiry field rewritten (integers carry none)."""
    if raw and raw[0] in _DIGITS_START:
        return raw
    return raw[:1] + struct.pack(">Q", expiry_ms) + raw[HEADER_SIZE:]


def _compress(codec: int, data: bytes) -> bytes:
    if codec == ZSTD:
        return _zstd.compressor.compress(data)
    return zlib.compress(data, 6)


def _decompress(codec: int, data: memoryview) -> bytes:
    if codec == NONE:
        return bytes(data)
    if codec == ZLIB:
        return zlib.decompress(data)
    if codec == ZSTD:
        return _zstd.decompressor.decompress(data)
    raise CorruptValue(f"unknown codec byte {codec}")
