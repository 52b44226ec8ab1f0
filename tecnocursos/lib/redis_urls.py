"""One Redis address, spelled for each client that needs it (no Django imports)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse


@dataclass(frozen=True)
class RedisUrls:
    redis_py: str  # redis-py, channels_redis, Django's cache
    kombu: str  # Celery's broker

    @classmethod
    def parse(cls, url: str) -> RedisUrls:
        parts = urlparse(url)
        if parts.scheme in ("redis", "rediss"):
            return cls(redis_py=url, kombu=url)
        if parts.scheme == "unix":
            db = parse_qs(parts.query).get("db", ["0"])[0]
            return cls(redis_py=url, kombu=f"redis+socket://{parts.path}?virtual_host={db}")
        raise ValueError(
            f"REDIS_URL must start with redis://, rediss:// or unix://, not {url!r}"
        )
