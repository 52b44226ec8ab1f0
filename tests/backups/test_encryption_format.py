"""The streaming AES-256-GCM format: round trips, and every kind of tampering detected."""

from __future__ import annotations

import io
import os

import pytest

from backups.engine.crypto import (
    NONCE_SIZE,
    TAG_SIZE,
    CryptoError,
    DecryptingReader,
    EncryptingWriter,
    Key,
    KeyRing,
    KeyRingError,
    generate_key,
    parse_key,
    read_header,
)

CHUNK = 1024
RECORD = NONCE_SIZE + CHUNK + TAG_SIZE


def encrypt(data: bytes, key: Key, *, writes: int = 1) -> bytes:
    out = io.BytesIO()
    with EncryptingWriter(out, key, chunk_size=CHUNK) as writer:
        step = max(1, len(data) // writes)
        for start in range(0, len(data), step):
            writer.write(data[start:start + step])
    return out.getvalue()


def decrypt(blob: bytes, ring: KeyRing) -> bytes:
    reader = DecryptingReader(io.BytesIO(blob), ring)
    parts = []
    while block := reader.read(333):
        parts.append(block)
    return b"".join(parts)


@pytest.fixture
def key() -> Key:
    return generate_key("k1")


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 7])
@pytest.mark.parametrize("writes", [1, 7])
def test_it_round_trips_any_size_and_write_pattern(key, size, writes):
    data = os.urandom(size)
    assert decrypt(encrypt(data, key, writes=writes), KeyRing([key])) == data


def split(blob: bytes) -> tuple[bytes, list[bytes]]:
    header, raw = read_header(io.BytesIO(blob))
    body = blob[len(raw):]
    return raw, [body[i:i + RECORD] for i in range(0, len(body), RECORD)]


def test_the_header_names_the_key_and_version(key):
    header, _ = read_header(io.BytesIO(encrypt(b"x", key)))
    assert header.key_id == "k1"
    assert header.chunk_size == CHUNK


@pytest.fixture
def sealed(key) -> bytes:
    return encrypt(os.urandom(4 * CHUNK + 100), key)


def refused(blob: bytes, key: Key) -> str:
    with pytest.raises(CryptoError) as info:
        decrypt(blob, KeyRing([key]))
    return str(info.value)


def test_a_flipped_byte_is_detected(sealed, key):
    for offset in (len(sealed) // 2, len(sealed) - 1, 60):
        damaged = bytearray(sealed)
        damaged[offset] ^= 0x01
        refused(bytes(damaged), key)


def test_truncation_mid_chunk_and_on_a_chunk_boundary_is_detected(sealed, key):
    header, chunks = split(sealed)
    refused(sealed[:-10], key)
    refused(header + b"".join(chunks[:2]), key)  # whole chunks, the last one missing
    assert "no chunks" in refused(header, key)


def test_an_appended_chunk_is_detected(sealed, key):
    header, chunks = split(sealed)
    refused(sealed + chunks[1], key)
    refused(sealed + b"\0" * 5, key)
    exact = encrypt(os.urandom(2 * CHUNK), key)  # last chunk full-sized
    refused(exact + b"more", key)


def test_swapped_and_dropped_chunks_are_detected(sealed, key):
    header, chunks = split(sealed)
    refused(header + chunks[1] + chunks[0] + b"".join(chunks[2:]), key)
    refused(header + chunks[0] + b"".join(chunks[2:]), key)


def test_a_changed_header_is_detected(sealed, key):
    header, chunks = split(sealed)
    renamed = header[:-2] + b"k2"  # same key material under another id: the header is authenticated too
    refused(renamed + b"".join(chunks), Key("k2", key.material))


def test_a_wrong_key_gives_a_clear_error(sealed, key):
    impostor = Key("k1", os.urandom(32))
    message = refused(sealed, impostor)
    assert "key is wrong" in message


def test_an_unknown_key_id_names_the_missing_key(sealed):
    with pytest.raises(KeyRingError, match="no key 'k1'"):
        decrypt(sealed, KeyRing([generate_key("other")]))


def test_the_newest_key_encrypts_and_older_keys_still_decrypt(key):
    newer = generate_key("k2")
    ring = KeyRing([key, newer])
    assert ring.current.id == "k2"
    old_blob = encrypt(b"old data", key)
    assert decrypt(old_blob, ring) == b"old data"


def test_keys_parse_and_never_print_their_material(key):
    parsed = parse_key(key.encoded())
    assert parsed == key
    assert key.material.hex() not in repr(key) and key.material.hex() not in repr(KeyRing([key]))
    with pytest.raises(KeyRingError):
        parse_key("bad id!:AAAA")
    with pytest.raises(KeyRingError):
        parse_key("k:notbase64***")
    with pytest.raises(KeyRingError):
        KeyRing([Key("k", b"a" * 32), Key("k", b"b" * 32)])
    with pytest.raises(KeyRingError, match="empty"):
        _ = KeyRing([]).current


def test_not_an_encrypted_file_is_refused(key):
    with pytest.raises(CryptoError, match="not an encrypted backup"):
        DecryptingReader(io.BytesIO(b"\x1f\x8b plain gzip"), KeyRing([key]))
