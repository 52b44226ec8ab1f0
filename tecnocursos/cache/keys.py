"""Keys: any string the caller gives becomes a Redis-safe key (long or odd ones are hashed)."""

from __future__ import annotations

import hashlib

MAX_KEY_LENGTH = 200


def safe_key(key: str, max_length: int = MAX_KEY_LENGTH) -> str:
    """`key` itself when short and printable without spaces, else a readable stem + a hash.

    Hashing instead of rejecting (Django warns about memcached-unsafe keys): the key stays
    unique, bounded in size and free of spaces and control characters.
    """
    if len(key) <= max_length and " " not in key and key.isprintable():
        return key
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    stem = "".join(ch for ch in key[:60] if ch.isprintable() and ch != " ")
    return f"{stem}#{digest}"
