"""Streaming authenticated encryption: AES-256-GCM over fixed-size chunks.

File layout (all integers big-endian):

    header   magic b"TCBKENC" | version u8 (=1) | chunk_size u32 | salt 32 bytes
             | key id length u8 | key id (ASCII)
    chunks   nonce 12 bytes | ciphertext of chunk_size plaintext bytes (the last one may be
             shorter, even empty) | GCM tag 16 bytes

Each file is encrypted under its own subkey, HKDF-SHA256(master key, salt), so nonces never
repeat across files whatever their number. Every chunk is sealed with associated data
SHA-256(header) | chunk index u64 | last-chunk flag u8: a changed header, a flipped byte, a
swapped or dropped chunk, a truncation (even on a chunk boundary) and data appended after the
last chunk all fail authentication. Plaintext is released one chunk at a time and only after
its tag checked, so a reader never acts on unauthenticated bytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backups.engine.streams import Readable, Writable

MAGIC = b"TCBKENC"
VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
SALT_SIZE = 32
KEY_SIZE = 32
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
_FIXED = struct.Struct(">7sBI32sB")
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class CryptoError(Exception):
    """Encrypted data that cannot be read: tampered, truncated, or the wrong key."""


class KeyRingError(CryptoError):
    """No key for this data, or a malformed key ring."""


@dataclass(frozen=True)
class Key:
    id: str
    material: bytes

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.id):
            raise KeyRingError(f"invalid key id {self.id!r}: use 1-64 letters, digits, '.', '_' or '-'")
        if len(self.material) != KEY_SIZE:
            raise KeyRingError(f"key {self.id!r} must be {KEY_SIZE} bytes, got {len(self.material)}")

    def __repr__(self) -> str:  # never print key material
        return f"Key(id={self.id!r})"

    def encoded(self) -> str:
        return f"{self.id}:{base64.b64encode(self.material).decode()}"


def generate_key(key_id: str) -> Key:
    return Key(key_id, os.urandom(KEY_SIZE))


def parse_key(text: str) -> Key:
    """`id:base64` (or `id base64`) -> Key."""
    text = text.strip()
    sep = ":" if ":" in text else " "
    key_id, _, encoded = text.partition(sep)
    try:
        material = base64.b64decode(encoded.strip(), validate=True)
    except ValueError as exc:
        raise KeyRingError(f"key {key_id.strip()!r}: material is not valid base64") from exc
    return Key(key_id.strip(), material)


class KeyRing:
    """Keys oldest first; the last one encrypts, every one decrypts."""

    def __init__(self, keys: Iterable[Key]):
        self._keys: dict[str, Key] = {}
        for key in keys:
            known = self._keys.get(key.id)
            if known is not None and known.material != key.material:
                raise KeyRingError(f"key id {key.id!r} appears twice with different material")
            self._keys.pop(key.id, None)
            self._keys[key.id] = key

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(ids={list(self._keys)!r})"

    @property
    def ids(self) -> list[str]:
        return list(self._keys)

    @property
    def current(self) -> Key:
        if not self._keys:
            raise KeyRingError("the backup key ring is empty: set BACKUP_ENCRYPTION_KEYS or run `backup rotate-key`")
        return next(reversed(self._keys.values()))

    def get(self, key_id: str) -> Key:
        try:
            return self._keys[key_id]
        except KeyError:
            raise KeyRingError(
                f"no key {key_id!r} in the key ring (known: {', '.join(self._keys) or 'none'}); "
                "the archive was encrypted with a key this deployment does not have"
            ) from None


@dataclass(frozen=True)
class Header:
    key_id: str
    chunk_size: int
    salt: bytes

    def encode(self) -> bytes:
        kid = self.key_id.encode("ascii")
        return _FIXED.pack(MAGIC, VERSION, self.chunk_size, self.salt, len(kid)) + kid


def read_header(stream: Readable) -> tuple[Header, bytes]:
    """(header, its raw bytes) from the start of an encrypted stream."""
    fixed = _read_exact(stream, _FIXED.size)
    if len(fixed) < _FIXED.size or not fixed.startswith(MAGIC):
        raise CryptoError("not an encrypted backup (bad magic): the file is damaged or not encrypted")
    magic, version, chunk_size, salt, kid_len = _FIXED.unpack(fixed)
    if version != VERSION:
        raise CryptoError(f"unsupported encryption format version {version}")
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise CryptoError(f"corrupt header: chunk size {chunk_size}")
    kid = _read_exact(stream, kid_len)
    if len(kid) < kid_len:
        raise CryptoError("truncated header")
    try:
        key_id = kid.decode("ascii")
    except UnicodeDecodeError:
        raise CryptoError("corrupt header: key id is not ASCII") from None
    return Header(key_id, chunk_size, salt), fixed + kid


def is_encrypted(prefix: bytes) -> bool:
    return prefix.startswith(MAGIC)


def _subkey(master: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=b"tecnocursos-backup-v1")
    return AESGCM(hkdf.derive(master))


def _aad(header_digest: bytes, index: int, last: bool) -> bytes:
    return header_digest + struct.pack(">QB", index, 1 if last else 0)


def _read_exact(stream: Readable, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = stream.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


class EncryptingWriter:
    """A write-only binary stream: plaintext in, the encrypted format out to `sink`.

    `close()` seals the last chunk; it does not close the sink.
    """

    def __init__(self, sink: Writable, key: Key, *, chunk_size: int = DEFAULT_CHUNK_SIZE):
        if not 0 < chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError("chunk_size out of range")
        header = Header(key.id, chunk_size, os.urandom(SALT_SIZE))
        raw = header.encode()
        self._sink = sink
        self._aead = _subkey(key.material, header.salt)
        self._digest = hashlib.sha256(raw).digest()
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0
        self.closed = False
        sink.write(raw)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.closed:
            raise ValueError("write to a closed EncryptingWriter")
        view = memoryview(data)
        size = len(view)
        buffer = self._buffer
        chunk = self._chunk_size
        if buffer:
            take = min(chunk - len(buffer), len(view))
            buffer += view[:take]
            view = view[take:]
            if len(buffer) == chunk and view:
                self._seal(bytes(buffer), last=False)
                buffer.clear()
        # Whole chunks straight from the caller's buffer. What is left (at most one chunk)
        # waits: it is the last chunk if close() comes next.
        while len(view) > chunk:
            self._seal(view[:chunk], last=False)
            view = view[chunk:]
        if view:
            buffer += view
        return size

    def _seal(self, plaintext: bytes | memoryview, *, last: bool) -> None:
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._aead.encrypt(nonce, bytes(plaintext), _aad(self._digest, self._index, last))
        self._sink.write(nonce)
        self._sink.write(sealed)
        self._index += 1

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer = bytearray()
            self.closed = True

    def __enter__(self) -> EncryptingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()


class DecryptingReader:
    """A read-only binary stream over the encrypted format; raises CryptoError on any tampering."""

    def __init__(self, source: Readable, ring: KeyRing):
        header, raw = read_header(source)
        self.key_id = header.key_id
        key = ring.get(header.key_id)
        self._source = source
        self._aead = _subkey(key.material, header.salt)
        self._digest = hashlib.sha256(raw).digest()
        self._record = NONCE_SIZE + header.chunk_size + TAG_SIZE
        self._index = 0
        self._done = False
        self._pending = _read_exact(source, self._record)
        self._plain = memoryview(b"")
        self.closed = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bool:
        if self._done:
            return False
        record = self._pending
        if len(record) < NONCE_SIZE + TAG_SIZE:
            raise CryptoError("truncated encrypted data" if self._index else "encrypted data has no chunks")
        following = _read_exact(self._source, self._record) if len(record) == self._record else b""
        last = not following
        try:
            plain = self._aead.decrypt(record[:NONCE_SIZE], record[NONCE_SIZE:], _aad(self._digest, self._index, last))
        except InvalidTag:
            raise CryptoError(
                f"authentication failed at chunk {self._index}: the data was modified, truncated, "
                "reordered or extended, or the key is wrong"
            ) from None
        self._index += 1
        self._pending = following
        self._done = last
        self._plain = memoryview(plain)
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            everything = [bytes(self._plain)]
            self._plain = memoryview(b"")
            while self._next_chunk():
                everything.append(bytes(self._plain))
                self._plain = memoryview(b"")
            return b"".join(everything)
        parts: list[bytes] = []
        wanted = size
        while wanted > 0:
            if not self._plain and not self._next_chunk():
                break
            piece = self._plain[:wanted]
            self._plain = self._plain[len(piece):]
            parts.append(bytes(piece))
            wanted -= len(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> DecryptingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
