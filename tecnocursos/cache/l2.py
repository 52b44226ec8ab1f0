"""L2: the Redis tier, behind a circuit breaker.

Every call either answers or raises `Unavailable`; connection errors and timeouts never reach
the caller. After a failure the tier stays "down" for `retry_seconds` (calls fail fast, no
connect timeout per request); then one caller probes, and success brings it back up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from time import monotonic
from typing import Any, TypeVar, cast

import redis

from tecnocursos.lib import redis_clients

log = logging.getLogger("tecnocursos.cache")

T = TypeVar("T")

_REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, OSError)

STATS_TTL_SECONDS = 7 * 24 * 3600
SNAPSHOTS_TTL_SECONDS = 3600


class Unavailable(Exception):
    """Redis can't be reached right now; the caller falls back to L1."""


# SET one value and add its key to each tag set (KEYS[2..]); a tag set lives as long as its
# longest-lived member. ARGV: value, ttl ms (0 = none), "1" for NX. Returns 1 if stored.
_SET_TAGGED = """
local ttl = tonumber(ARGV[2])
local ok
if ARGV[3] == '1' then
  if ttl > 0 then ok = redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl, 'NX')
  else ok = redis.call('SET', KEYS[1], ARGV[1], 'NX') end
else
  if ttl > 0 then ok = redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
  else ok = redis.call('SET', KEYS[1], ARGV[1]) end
end
if not ok then return 0 end
for i = 2, #KEYS do
  local existed = redis.call('EXISTS', KEYS[i])
  redis.call('SADD', KEYS[i], KEYS[1])
  if existed == 0 then
    if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
  else
    local left = redis.call('PTTL', KEYS[i])
    if ttl == 0 then
      if left >= 0 then redis.call('PERSIST', KEYS[i]) end
    elseif left >= 0 and left < ttl then
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
  end
end
return 1
"""

# Delete every key of the tag sets KEYS and the sets themselves; return the keys deleted.
_INVALIDATE_TAGS = """
local all = {}
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    redis.call('UNLINK', unpack(members, j, math.min(j + 499, #members)))
  end
  for _, m in ipairs(members) do all[#all + 1] = m end
  redis.call('DEL', KEYS[i])
end
return all
"""

# INCRBY only an existing key (Django raises ValueError for a missing one); TTL is kept.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""

# New TTL for a key, and the same expiry in the value header (bytes 2..9) so promotion to
# L1 keeps using the right remaining TTL. ARGV: ttl ms (0 = none), 8-byte expiry field.
_TOUCH = """
local raw = redis.call('GETRANGE', KEYS[1], 0, 0)
if raw == '' then return 0 end
if string.byte(raw) < 16 then redis.call('SETRANGE', KEYS[1], 1, ARGV[2]) end
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) else redis.call('PERSIST', KEYS[1]) end
return 1
"""

_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisTier:
    def __init__(
        self,
        url: str,
        *,
        socket_timeout: float = 0.5,
        retry_seconds: float = 2.0,
        on_down: Callable[[], None] | None = None,
        on_up: Callable[[], None] | None = None,
    ):
        self.url = url
        self.retry_seconds = retry_seconds
        # The project's factory: a blocking bounded pool, and one retry that heals a pooled
        # connection a Redis restart broke. Short socket timeouts: L1 answers while L2 is slow.
        self.client = redis_clients.new_sync_client(url, socket_timeout=socket_timeout)
        # Redis.get minus one Python call; only GET goes through it, and replies are not decoded.
        self._get_raw: Callable[[str, str], bytes | None] = self.client.execute_command
        self._on_down = on_down
        self._on_up = on_up
        self._state_lock = threading.Lock()
        self._retry_at = 0.0  # 0: up; else monotonic time of the next probe
        self._probing = False
        self.down_since: float | None = None
        self.last_error = ""
        self.errors = 0
        self._set_tagged = self.client.register_script(_SET_TAGGED)
        self._invalidate_tags = self.client.register_script(_INVALIDATE_TAGS)
        self._incr_existing = self.client.register_script(_INCR_EXISTING)
        self._touch = self.client.register_script(_TOUCH)
        self._release_lock = self.client.register_script(_RELEASE_LOCK)

    @property
    def available(self) -> bool:
        return self._retry_at == 0.0

    # -- the breaker ------------------------------------------------------------------
    def _enter(self) -> None:
        if self._retry_at:
            if monotonic() < self._retry_at or self._probing:
                raise Unavailable(self.last_error)
            self._probing = True  # this caller probes; the others keep failing fast

    def _failed(self, exc: BaseException) -> Unavailable:
        self.errors += 1
        with self._state_lock:
            self._probing = False
            self._retry_at = monotonic() + self.retry_seconds
            self.last_error = f"{type(exc).__name__}: {exc}"
            newly_down = self.down_since is None
            if newly_down:
                self.down_since = time.time()
        if newly_down:
            log.warning("cache: Redis unreachable at %s, serving from L1 only (%s)", _safe_url(self.url), exc)
            if self._on_down:
                self._on_down()
        return Unavailable(self.last_error)

    def _succeeded(self) -> None:
        with self._state_lock:
            if not self._retry_at:
                return
            self._retry_at = 0.0
            self._probing = False
            self.down_since = None
        log.warning("cache: Redis reachable again at %s", _safe_url(self.url))
        if self._on_up:
            self._on_up()

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._enter()
        try:
            result = fn(*args, **kwargs)
        except _REDIS_DOWN as exc:
            raise self._failed(exc) from None
        if self._retry_at:
            self._succeeded()
        return result

    def note_down(self, exc: BaseException) -> None:
        """Another connection (the listener's) saw Redis go away."""
        if self.available:
            self._failed(exc)

    def note_up(self) -> None:
        if not self.available:
            self._succeeded()

    # -- commands -----------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        # Inlined breaker: this is the L2 hit path the benchmark holds to 1.15x of a raw GET.
        if self._retry_at:
            self._enter()
        try:
            raw = self._get_raw("GET", key)
        except _REDIS_DOWN as exc:
            raise self._failed(exc) from None
        if self._retry_at:
            self._succeeded()
        return raw

    def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        # Replies are not decoded (no decode_responses): bytes, whatever redis-py's annotation allows.
        return cast("list[bytes | None]", self.run(self.client.mget, keys))

    def write(
        self,
        items: Sequence[tuple[str, bytes]],
        ttl_ms: int,
        *,
        tag_keys: Sequence[str] = (),
        nx: bool = False,
        channel: str | None = None,
        message: bytes | None = None,
    ) -> list[bool]:
        """SET each item (with tags, NX), then PUBLISH `message`, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for key, raw in items:
            if tag_keys:
                self._set_tagged(keys=[key, *tag_keys], args=[raw, ttl_ms, "1" if nx else "0"], client=pipe)
            else:
                pipe.set(key, raw, px=ttl_ms or None, nx=nx)
        if channel is not None and message is not None:
            pipe.publish(channel, message)
        results = self.run(pipe.execute)
        return [bool(r) for r in results[: len(items)]]

    def delete(self, keys: Sequence[str], *, channel: str | None = None, message: bytes | None = None) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(*keys)
        if channel is not None and message is not None:
            pipe.publish(channel, message)
        return int(self.run(pipe.execute)[0])

    def publish(self, channel: str, message: bytes) -> None:
        self.run(self.client.publish, channel, message)

    def exists(self, key: str) -> bool:
        return bool(self.run(self.client.exists, key))

    def incr(self, key: str, delta: int) -> int | None:
        try:
            result = self.run(self._incr_existing, keys=[key], args=[delta])
        except redis.ResponseError as exc:
            raise ValueError(f"cached value is not an integer: {exc}") from None
        return None if result is None else int(result)

    def touch(self, key: str, ttl_ms: int, expiry_field: bytes) -> bool:
        return bool(self.run(self._touch, keys=[key], args=[ttl_ms, expiry_field]))

    def invalidate_tags(self, tag_keys: Sequence[str]) -> list[str]:
        members = self.run(self._invalidate_tags, keys=list(tag_keys), args=[])
        return [m.decode() for m in members]

    def delete_matching(self, pattern: str, keep: Iterable[str] = ()) -> int:
        """UNLINK every key matching `pattern` (SCAN, never KEYS or FLUSHDB) except `keep`."""
        keep_set = {k.encode() for k in keep}

        def sweep() -> int:
            deleted = 0
            batch: list[bytes] = []
            for key in self.client.scan_iter(match=pattern, count=1000):
                if key not in keep_set:
                    batch.append(key)
                if len(batch) >= 500:
                    deleted += self.client.unlink(*batch)
                    batch = []
            if batch:
                deleted += self.client.unlink(*batch)
            return deleted

        return self.run(sweep)

    def count_matching(self, pattern: str, *, limit: int = 50_000) -> tuple[int, int, bool]:
        """(keys, value bytes, complete) for keys matching `pattern`, scanning at most `limit`."""

        def scan() -> tuple[int, int, bool]:
            count = size = 0
            batch: list[bytes] = []
            for key in self.client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    size += self._strlen(batch)
                    count += len(batch)
                    batch = []
                    if count >= limit:
                        return count, size, False
            if batch:
                size += self._strlen(batch)
                count += len(batch)
            return count, size, True

        return self.run(scan)

    def _strlen(self, keys: list[bytes]) -> int:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.strlen(key)
        # STRLEN of a set (tag sets) is a WRONGTYPE error: count it as 0.
        return sum(r for r in pipe.execute(raise_on_error=False) if isinstance(r, int))

    def acquire_lock(self, key: str, token: str, timeout_ms: int) -> bool:
        return bool(self.run(self.client.set, key, token, px=timeout_ms, nx=True))

    def release_lock(self, key: str, token: str) -> None:
        self.run(self._release_lock, keys=[key], args=[token])

    def add_counters(self, key: str, deltas: dict[str, int], snapshot_key: str, field: str, snapshot: bytes) -> None:
        pipe = self.client.pipeline(transaction=False)
        for name, delta in deltas.items():
            if delta:
                pipe.hincrby(key, name, delta)
        pipe.hset(snapshot_key, field, snapshot)
        # Every live process refreshes these; a namespace nobody uses any more fades away.
        pipe.expire(key, STATS_TTL_SECONDS)
        pipe.expire(snapshot_key, SNAPSHOTS_TTL_SECONDS)
        self.run(pipe.execute)

    def read_stats(self, key: str, snapshot_key: str) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.hgetall(snapshot_key)
        counters, snapshots = self.run(pipe.execute)
        return counters, snapshots

    def forget_snapshots(self, snapshot_key: str, fields: Sequence[bytes]) -> None:
        if fields:
            self.run(self.client.hdel, snapshot_key, *fields)

    def close(self) -> None:
        self.client.close()


def _safe_url(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
