"""`CacheStore`: what may be stored, under which scope, and failures contained.

One store serves both `Discogs` and `AsyncDiscogs`: its calls are short and synchronous; when
they do network I/O (Redis, `CacheStore.offload`), the async client runs them in a worker
thread. A store is shared by every client given it, and closed by whoever built it.

A failing backend never fails a request: the first failure is logged as one warning line on
``musicagent.cache``; for a few seconds after any failure the store behaves as an empty cache
without touching the backend (so a vanished Redis costs no timeouts per request), then tries
again, so a server that comes back is used again. Redis is watched by its `RedisLink`
instead, which warns once per outage for the whole process (rate window included); a server
that comes back may have lost the salt, so the store then reads it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import httpx

from musicagent.cache.backend import Backend, Entry
from musicagent.cache.memory_store import MemoryBackend
from musicagent.cache.plan import CachedResponse, CachePlan
from musicagent.cache.policy import CacheScope, scope_fingerprint
from musicagent.cache.redis_store import RedisBackend
from musicagent.cache.sqlite_store import CACHE_FILE_NAME, SqliteBackend
from musicagent.errors import InvalidParameterError
from musicagent.masking import known_secrets, mask_text
from musicagent.redis_link import RedisUnavailable
from musicagent.settings import DiscogsSettings

__all__ = [
    "DEFAULT_MAX_ENTRY_BYTES",
    "AsyncCacheStore",
    "CacheInfo",
    "CacheStore",
    "cache_file_path",
    "storable_headers",
]

logger = logging.getLogger("musicagent.cache")

DEFAULT_MAX_ENTRY_BYTES = 8 * 1024 * 1024
"""Largest body stored (8 MiB, far above any real Discogs answer); larger ones are not kept."""

# Headers never stored: credentials, cookies, and what described the body as it was sent
# (the stored body is already decoded, and its length is set afresh on a hit).
_DROPPED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "www-authenticate",
        "proxy-authenticate",
        "cookie",
        "set-cookie",
        "set-cookie2",
        "content-encoding",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
    }
)
_SECRET_HEADER_PARTS = ("token", "secret", "signature", "password", "api-key", "apikey", "auth")
# After a failure, the backend rests this long before it is tried again.
_REST_SECONDS = 5.0

T = TypeVar("T")


@dataclass(frozen=True)
class CacheInfo:
    """What `cache_info` reports about the cache (``musicagent cache info``).

    Attributes:
        backend: ``sqlite``, ``redis`` or ``memory``.
        location: the SQLite file, or the Redis URL with its password masked.
        entries: responses still fresh.
        entries_by_kind: fresh responses per kind (database, search, user, marketplace).
        size_bytes: bytes on disk (SQLite), or None when the backend cannot tell (Redis).
        oldest: when the oldest fresh response was stored (UTC), if any.
        newest: when the newest fresh response was stored (UTC), if any.
        enabled: whether clients built from these settings use the cache.
        problem: why the cache could not be read (a corrupt file, an unreachable server), or
            None; ``musicagent cache clear`` recovers a corrupt file.
    """

    backend: str
    location: str
    entries: int
    entries_by_kind: dict[str, int] = field(default_factory=dict)
    size_bytes: int | None = None
    oldest: datetime | None = None
    newest: datetime | None = None
    enabled: bool = True
    problem: str | None = None


def storable_headers(
    headers: httpx.Headers | Mapping[str, str], secrets: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """The response headers a cache may keep: no credential, cookie or transfer headers.

    A header whose value holds one of ``secrets`` (a server echoing a credential) is dropped
    too.
    """
    known = tuple(secrets)
    kept: list[tuple[str, str]] = []
    if isinstance(headers, httpx.Headers):
        # Once per miss: the verdict on each raw name is remembered, and only kept values
        # are decoded.
        for raw_name, raw_value in headers.raw:
            try:
                name = _RAW_VERDICTS[raw_name]
            except KeyError:
                name = _raw_verdict(raw_name)
            if name is None:
                continue
            value = raw_value.decode("latin-1")
            if known and any(map(value.__contains__, known)):
                continue
            kept.append((name, value))
        return kept
    for name, value in headers.items():
        if _never_stored(name):
            continue
        if known and any(map(value.__contains__, known)):
            continue
        kept.append((name, value))
    return kept


# Raw header name -> its text when it may be stored, None when never; bounded, since a
# hostile server can send any number of distinct names.
_RAW_VERDICTS: dict[bytes, str | None] = {}
_RAW_VERDICTS_MAX = 512


def _raw_verdict(raw_name: bytes) -> str | None:
    name = raw_name.decode("latin-1")
    verdict = None if _never_stored(name) else name
    if len(_RAW_VERDICTS) < _RAW_VERDICTS_MAX:
        _RAW_VERDICTS[raw_name] = verdict
    return verdict


def _never_stored(name: str) -> bool:
    lowered = name.lower()
    return lowered in _DROPPED_HEADERS or any(part in lowered for part in _SECRET_HEADER_PARTS)


def cache_file_path(settings: DiscogsSettings | None = None) -> Path:
    """The SQLite cache file: ``<DISCOGS_CACHE_DIR>/http-cache.db``."""
    s = settings if settings is not None else DiscogsSettings()
    return Path(s.cache_dir).expanduser() / CACHE_FILE_NAME


class CacheStore:
    """Where cached responses live, for sync and async clients alike.

    Build one with `CacheStore.from_settings`, `CacheStore.sqlite(path)`, `CacheStore.memory()`
    or `CacheStore.redis(url)`::

        store = CacheStore.sqlite("~/.cache/musicagent/http-cache.db")
        scope = store.scope(credential_identity(auth))
        plan = plan_call(op, request, path_arguments, CachePolicy(), scope)
        hit = store.get(plan)                      # CachedResponse | None
        store.put(plan, response.status_code, response.headers, response.content)

    Args:
        backend: where the rows live.
        clock: Unix time for stored_at/expires_at (``time.time`` by default).
        max_entry_bytes: bodies larger than this are not stored.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Callable[[], float] | None = None,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
    ) -> None:
        self._backend = backend
        self._clock = clock or time.time
        self._max_entry_bytes = max_entry_bytes
        self._scopes: dict[str, CacheScope] = {}
        self._salt: bytes | None = None
        self._lock = threading.Lock()
        self._warned = False
        self._resting_until = 0.0
        self._generation = backend.generation()

    # --- construction ----------------------------------------------------------------------

    @classmethod
    def sqlite(cls, path: str | Path, *, clock: Callable[[], float] | None = None) -> Self:
        """A SQLite file (folder created with mode 0700 on first use); processes may share it."""
        return cls(SqliteBackend(Path(path).expanduser()), clock=clock)

    @classmethod
    def memory(cls, *, clock: Callable[[], float] | None = None) -> Self:
        """An in-memory store for this process only (tests, short scripts)."""
        return cls(MemoryBackend(), clock=clock)

    @classmethod
    def redis(cls, url: str, *, clock: Callable[[], float] | None = None) -> Self:
        """A Redis server shared by every process and host using ``url`` (``musicagent[redis]``)."""
        return cls(RedisBackend(url), clock=clock)

    @classmethod
    def from_settings(cls, settings: DiscogsSettings | None = None) -> Self:
        """The store the settings describe (``DISCOGS_CACHE_BACKEND``, ``_DIR``, ``REDIS_URL``)."""
        s = settings if settings is not None else DiscogsSettings()
        if s.cache_backend == "redis":
            url = s.redis_url_value()
            if not url:
                raise InvalidParameterError(
                    "the redis cache backend needs DISCOGS_REDIS_URL",
                    parameter="redis_url",
                    allowed="a URL such as redis://localhost:6379/0",
                )
            store = cls.redis(url)
        else:
            store = cls.sqlite(cache_file_path(s))
        store._max_entry_bytes = min(DEFAULT_MAX_ENTRY_BYTES, s.max_response_bytes)
        return store

    # --- what the request loop calls -------------------------------------------------------

    @property
    def backend(self) -> str:
        """``sqlite``, ``redis`` or ``memory``."""
        return self._backend.name

    @property
    def location(self) -> str:
        """Where the responses live, secrets masked."""
        return self._backend.location

    @property
    def offload(self) -> bool:
        """True when calls do network I/O (Redis): async callers run them in a worker thread."""
        return self._backend.offload

    def scope(self, identity: str) -> CacheScope:
        """The keyed fingerprint of a credential identity (`credential_identity(auth)`).

        Memoised; an HMAC under the store's salt, so no stored key reveals whose it is. When
        the salt cannot be read, the scope is unavailable and its calls bypass the cache.
        """
        generation = self._backend.generation()
        if generation != self._generation:
            # The backend came back from an outage and may have lost its salt with its rows:
            # fingerprints made with the old one would be shared with nobody.
            with self._lock:
                self._generation = generation
                self._salt = None
                self._scopes.clear()
        scope = self._scopes.get(identity)
        if scope is not None:
            return scope
        if not isinstance(identity, str) or not identity:
            raise InvalidParameterError(
                parameter="identity",
                allowed="a credential fingerprint such as credential_identity(auth)",
                value=identity,
            )
        salt = self._salt or self._guard("read its salt", self._backend.salt, None)
        if salt is None:
            return CacheScope(None)
        with self._lock:
            self._salt = salt
            scope = self._scopes[identity] = CacheScope(scope_fingerprint(salt, identity))
        return scope

    def get(self, plan: CachePlan) -> CachedResponse | None:
        """The fresh response stored for a ``lookup`` plan, else None (a miss)."""
        if plan.action != "lookup" or plan.key is None:
            return None
        key = plan.key
        return self._guard("read", lambda: self._backend.get(key, self._clock()), None)

    def put(
        self, plan: CachePlan, status: int, headers: httpx.Headers | Mapping[str, str], body: bytes
    ) -> bool:
        """Store a response fetched for a ``lookup``/``refresh`` plan; return whether it was.

        Only 2xx responses are stored, never one sent with ``Cache-Control: no-store`` or one
        larger than the store's limit; credential, cookie and transfer headers are dropped, and
        so is any header echoing a registered secret. A ``refresh`` whose answer is not stored
        drops the old one.
        """
        if plan.action not in ("lookup", "refresh") or plan.key is None or plan.ttl is None:
            return False
        key = plan.key
        reason = self._refusal(status, headers, body)
        if reason:
            logger.debug("cache: not storing %s: %s", plan.path, reason)
            if plan.action == "refresh":
                self._guard("drop", lambda: self._backend.delete(key), None)
            return False
        if self._backend.generation() != self._generation:
            # The backend came back from an outage after this plan's key was made: the key may
            # rest on a salt the server lost, so nobody would find the answer under it.
            logger.debug("cache: not storing %s: planned before the backend came back", plan.path)
            return False
        now = self._clock()
        entry = Entry(
            key=key,
            path=plan.path,
            kind=plan.kind or "",
            status=status,
            headers=storable_headers(headers, known_secrets()),
            body=body,
            stored_at=now,
            expires_at=now + plan.ttl,
        )
        return self._guard("write", lambda: self._store(entry), False)

    def invalidate(self, patterns: Sequence[str]) -> int:
        """Drop every cached response, of every identity, whose path matches a glob pattern."""
        if not patterns:
            return 0
        return self._guard(
            "invalidate", lambda: self._backend.invalidate(patterns, self._clock()), 0
        )

    def flush(self) -> None:
        """Write what the backend keeps in memory now (SQLite writes stored responses in
        groups; `close` and the end of the process write them too)."""
        self._guard("write", self._backend.flush, None)

    # --- management ------------------------------------------------------------------------

    def info(self) -> CacheInfo:
        """Backend, location, fresh entries (total and per kind), size, oldest and newest.

        Never raises for a broken backend: the failure is reported in ``problem``.
        """
        try:
            summary = self._backend.summary(self._clock())
            size = self._backend.size_bytes()
        except Exception as exc:
            return CacheInfo(self.backend, self.location, 0, problem=_describe(exc))
        return CacheInfo(
            backend=self.backend,
            location=self.location,
            entries=summary.entries,
            entries_by_kind=summary.by_kind,
            size_bytes=size,
            oldest=_utc(summary.oldest),
            newest=_utc(summary.newest),
        )

    def clear(self) -> int:
        """Delete every cached response; return how many were still fresh.

        A corrupt SQLite file is removed and the cache starts empty. Raises when the backend
        cannot be reached at all (``musicagent cache clear`` then says why).
        """
        removed = self._backend.clear(self._clock())
        self._resting_until = 0.0
        return removed

    def close(self) -> None:
        """Release the backend's connections."""
        self._guard("close", self._backend.close, None)

    async def aclose(self) -> None:
        """`close`, for code written against the async store."""
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self.backend!r}, location={self.location!r})"

    # --- internals -------------------------------------------------------------------------

    def _refusal(self, status: int, headers: httpx.Headers | Mapping[str, str], body: bytes) -> str:
        if not 200 <= status < 300:
            return f"status {status}"
        cache_control = headers.get("cache-control", "") or ""
        if "no-store" in cache_control.lower():
            return "Cache-Control: no-store"
        if len(body) > self._max_entry_bytes:
            return f"body of {len(body)} bytes over the {self._max_entry_bytes} byte limit"
        return ""

    def _store(self, entry: Entry) -> bool:
        self._backend.put(entry)
        return True

    def _guard(self, action: str, call: Callable[[], T], fallback: T) -> T:
        if self._resting_until and time.monotonic() < self._resting_until:
            return fallback
        try:
            result = call()
        except RedisUnavailable:
            return fallback  # its link warned once for the outage and rests the server
        except Exception as exc:
            self._resting_until = time.monotonic() + _REST_SECONDS
            if not self._warned:
                self._warned = True
                logger.warning(
                    "cache: could not %s the %s cache at %s (%s); continuing without it",
                    action,
                    self.backend,
                    self.location,
                    _describe(exc),
                )
            else:
                logger.debug("cache: could not %s: %s", action, _describe(exc))
            return fallback
        self._resting_until = 0.0
        return result


# AsyncDiscogs once needed a store of its own; one store now serves both clients.
AsyncCacheStore = CacheStore


def _describe(exc: BaseException) -> str:
    return mask_text(f"{type(exc).__name__}: {exc}", known_secrets())


def _utc(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None
