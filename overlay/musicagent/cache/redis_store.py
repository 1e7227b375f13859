"""The Redis backend: one value per response, one round trip per hit and per miss.

A hit is one ``GET``. A miss stores the packed response with ``SET … PX <ttl>`` (Redis drops
it when its lifetime ends) and records its path in the index hash, both in one ``MULTI``
pipeline: one round trip. Invalidation reads the index (path per key), matches the glob
patterns here and deletes the matching values and index fields in one more pipeline.

Every call goes through the process's `RedisLink` for the URL (shared with the rate-limit
store): while the server does not answer, calls fail at once with `RedisUnavailable` and the
store goes on without the cache, one warning per outage for the whole process.

Keys (all under ``musicagent-cache:``): ``r:<key>`` the responses, ``paths`` the index,
``salt`` the salt of identity fingerprints. No key or value holds a credential. ``cache
clear`` deletes the responses and the index, and the keys of the earlier format
(``musicagent-http:*``, which held requests as sent, credentials included).
"""

from __future__ import annotations

import importlib
import json
import secrets
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from musicagent.cache.backend import Entry, Summary, pack_entry, summarise, unpack_entry
from musicagent.cache.plan import CachedResponse
from musicagent.redis_link import RedisLink

__all__ = ["LEGACY_REDIS_KEY_PREFIX", "REDIS_KEY_PREFIX", "RedisBackend", "import_redis"]

REDIS_KEY_PREFIX = "musicagent-cache"
"""Prefix of every Redis key the cache writes (``cache clear`` deletes exactly these)."""
LEGACY_REDIS_KEY_PREFIX = "musicagent-http"
"""Prefix of the keys an earlier version wrote; ``cache clear`` deletes them too."""

# Index fields of expired responses are swept after every this-many-th write.
_SWEEP_EVERY = 512
_DELETE_BATCH = 500


def import_redis() -> Any:
    """The ``redis`` package, or an ImportError saying how to install it."""
    try:
        return importlib.import_module("redis")
    except ImportError as exc:
        raise ImportError(
            "the Redis cache backend needs the 'redis' package: pip install 'musicagent[redis]' "
            "(or set DISCOGS_CACHE_BACKEND=sqlite)"
        ) from exc


class RedisBackend:
    """Cache rows in Redis, shared by every process and host that uses the same server.

    Args:
        url: the server's URL (``redis://[:password@]host:port/db``); never shown unmasked.
        prefix: the key prefix (tests may isolate themselves with their own).
        link: the connection to use (default: the one this process shares for ``url``).
    """

    name = "redis"
    offload = True

    def __init__(
        self, url: str, *, prefix: str = REDIS_KEY_PREFIX, link: RedisLink | None = None
    ) -> None:
        import_redis()
        # The client connects lazily, on its first command.
        self._link = link if link is not None else RedisLink.shared(url)
        self._link.serves("cache")
        self.location = self._link.location
        self._prefix = prefix
        self._index = f"{prefix}:paths"
        self._salt_key = f"{prefix}:salt"
        self._writes = 0

    def _key(self, key: str) -> str:
        return f"{self._prefix}:r:{key}"

    def generation(self) -> int:
        """Bumps when the server answers again after an outage (it may have lost the salt)."""
        return self._link.generation

    def salt(self) -> bytes:
        def read(client: Any) -> bytes:
            pipe = client.pipeline(transaction=True)
            pipe.set(self._salt_key, secrets.token_bytes(32), nx=True)
            pipe.get(self._salt_key)
            _, salt = pipe.execute()
            return bytes(salt)

        return self._link.call(read)

    def get(self, key: str, now: float) -> CachedResponse | None:
        value = self._link.call(lambda client: client.get(self._key(key)))
        return unpack_entry(bytes(value)) if value is not None else None

    def put(self, entry: Entry) -> None:
        ttl_ms = max(1, int((entry.expires_at - entry.stored_at) * 1000))
        row = json.dumps([entry.path, entry.kind, entry.stored_at, entry.expires_at])

        def write(client: Any) -> None:
            pipe = client.pipeline(transaction=True)
            pipe.set(self._key(entry.key), pack_entry(entry), px=ttl_ms)
            pipe.hset(self._index, entry.key, row)
            pipe.execute()

        self._link.call(write)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self.summary(entry.stored_at)

    def flush(self) -> None:
        """Nothing waits: each row is sent as it is stored (one round trip per miss)."""

    def delete(self, key: str) -> None:
        def drop(client: Any) -> None:
            pipe = client.pipeline(transaction=True)
            pipe.delete(self._key(key))
            pipe.hdel(self._index, key)
            pipe.execute()

        self._link.call(drop)

    def _rows(self) -> dict[str, tuple[str, str, float, float]]:
        rows: dict[str, tuple[str, str, float, float]] = {}
        index = self._link.call(lambda client: client.hgetall(self._index))
        for raw_key, raw_value in index.items():
            key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            try:
                path, kind, stored_at, expires_at = json.loads(raw_value)
                rows[key] = (str(path), str(kind), float(stored_at), float(expires_at))
            except (ValueError, TypeError):
                rows[key] = ("", "", 0.0, 0.0)  # unreadable: swept as expired
        return rows

    def invalidate(self, patterns: Sequence[str], now: float) -> int:
        if not patterns:
            return 0
        doomed = [
            key
            for key, (path, *_) in self._rows().items()
            if any(fnmatchcase(path, pattern) for pattern in patterns)
        ]
        if not doomed:
            return 0

        def drop(client: Any) -> list[int]:
            pipe = client.pipeline(transaction=True)
            for start in range(0, len(doomed), _DELETE_BATCH):
                batch = doomed[start : start + _DELETE_BATCH]
                pipe.delete(*(self._key(key) for key in batch))
                pipe.hdel(self._index, *batch)
            return list(pipe.execute())

        return int(sum(self._link.call(drop)[0::2]))

    def summary(self, now: float) -> Summary:
        rows = self._rows()
        expired = [key for key, (*_, expires_at) in rows.items() if expires_at <= now]
        if expired:

            def sweep(client: Any) -> None:
                for start in range(0, len(expired), _DELETE_BATCH):
                    client.hdel(self._index, *expired[start : start + _DELETE_BATCH])

            self._link.call(sweep)
        fresh = [row for row in rows.values() if row[3] > now]
        return summarise((kind, 1, stored_at, stored_at) for _, kind, stored_at, _ in fresh)

    def clear(self, now: float) -> int:
        fresh = self.summary(now).entries

        def drop(client: Any) -> None:
            for prefix in (f"{self._prefix}:r:", LEGACY_REDIS_KEY_PREFIX + ":"):
                keys = list(client.scan_iter(match=prefix + "*", count=1000))
                for start in range(0, len(keys), _DELETE_BATCH):
                    client.delete(*keys[start : start + _DELETE_BATCH])
            client.delete(self._index)

        self._link.call(drop)
        return fresh

    def size_bytes(self) -> int | None:
        return None

    def close(self) -> None:
        self._link.close()

    def __repr__(self) -> str:
        return f"RedisBackend({self.location!r})"
