from __future__ import annotations

import pytest

from tecnocursos.cache import codec
from tecnocursos.cache.codec import Codec, CorruptValue

BIG = {"text": "lorem ipsum dolor sit amet " * 400, "n": list(range(100))}


@pytest.mark.parametrize("name,byte", [("zstd", codec.ZSTD), ("zlib", codec.ZLIB), ("none", codec.NONE)])
def test_large_values_round_trip_with_their_codec_byte(name, byte):
    raw, _ = Codec(compressor=name, min_compress_bytes=1024).encode(BIG, 123)
    assert raw[0] == byte
    value, expiry, _ = Codec().decode(raw)
    assert value == BIG and expiry == 123
    if name != "none":
        assert len(raw) < len(str(BIG)) / 5


def test_small_values_are_not_compressed():
    raw, _ = Codec(compressor="zstd", min_compress_bytes=1024).encode("tiny")
    assert raw[0] == codec.NONE


def test_old_keys_stay_readable_after_the_compressor_changes():
    raw, _ = Codec(compressor="zlib").encode(BIG)
    assert Codec(compressor="zstd").decode(raw)[0] == BIG
    assert Codec(compressor="none").decode(raw)[0] == BIG


def test_integers_are_plain_digits_for_incrby():
    raw, pickled = Codec().encode(-42)
    assert raw == b"-42" and pickled is None
    assert Codec().decode(raw)[0] == -42
    assert Codec().decode(Codec().encode(True)[0])[0] is True


@pytest.mark.parametrize("raw", [b"", b"\x00\x00", b"\x02" + b"\x00" * 8 + b"garbage", b"\x09" + b"\x00" * 8 + b"x",
                                 b"12a", b"hello"])
def test_corrupt_bytes_raise_corrupt_value(raw):
    with pytest.raises(CorruptValue):
        Codec().decode(raw)


def test_unpicklable_values_raise_type_error():
    with pytest.raises(TypeError):
        Codec().encode(lambda: None)


def test_an_unknown_compressor_is_refused():
    with pytest.raises(ValueError):
        Codec(compressor="lz4")
