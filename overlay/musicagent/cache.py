"""HTTP response cache for the Discogs API: per-user keys, per-kind lifetimes, write invalidation.

The cache is the OUTERMOST transport of a client, built on hishel 2's ``CacheTransport``::

    cache  →  retry  →  rate limit  →  auth  →  logging  →  HTTP

A hit is answered before the rate limiter, so it spends no rate budget and sends nothing: a
second identical export within the lifetime of its pages sends zero requests. A miss goes down
the whole stack like any other request.

What is cached, and for how long (`CachePolicy`):

- only successful ``GET`` responses (2xx; never 4xx, 5xx or 429);
- database objects (releases, masters, artists, labels, their version and release lists,
  ratings, stats) for 24 hours; search results for 1 hour; user data (collection, wantlist,
  inventory, orders, profile, lists, identity, inventory exports and uploads) and marketplace
  data (listings, stats, fees, price suggestions) for 5 minutes;
- never: ``POST``/``PUT``/``PATCH``/``DELETE``, the OAuth handshake, unknown paths, requests that
  carry their own credentials (an ``Authorization`` header or a ``token=`` query parameter),
  conditional or range requests, and requests sent with ``Cache-Control: no-store``.
  ``Cache-Control: no-cache`` fetches afresh and replaces the stored response.

Each kind is chosen from the operation id the executor puts in
``request.extensions["musicagent.operation_id"]``, else from the URL path.

The cache key is a SHA-256 over method, full URL (query sorted), the credential's identity
fingerprint and the ``Accept`` header. hishel's own key is only method and URL, which would serve
one user's private collection to another; the identity is never a raw token, and the values of
``token``/``key``/``secret`` query parameters are replaced by a fingerprint before hashing.

A write drops the cached responses it may have changed, for every identity: a write under
``/users/{u}/collection`` drops that user's collection pages and profile, ``/users/{u}/wants``
the wantlist, ``/marketplace/listings/...`` the listing and every cached inventory, an order edit
or message the order, its messages and the order list, a rating change the release's ratings.
hishel can only look entries up by exact key, so a small index beside the responses (a table in
the same SQLite file, or a hash in Redis) remembers which key holds which path; it also feeds
`cache_info`.

Rate-limit headers: responses are stored exactly as they came, ``X-Discogs-Ratelimit*`` headers
included. On a hit those headers are stale (they describe the budget when the response was first
fetched) and must not feed the limiter. Nothing does: the rate-limit transport sits below the
cache and never sees a hit. ``from_cache(response)`` tells a hit apart.

Storage: SQLite at ``<DISCOGS_CACHE_DIR>/http-cache.db`` by default, Redis with
``DISCOGS_CACHE_BACKEND=redis`` and ``DISCOGS_REDIS_URL`` (needs ``pip install redis``);
``DISCOGS_CACHE=off`` turns the cache off. A failing cache store never fails a request: the
error is logged on ``musicagent.cache`` and the request goes to the server.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Literal, Protocol, Self, TypeVar

import anyio.to_thread
import anysqlite
import hishel
import httpx
from discogs_facade import OPERATIONS
from hishel import httpx as hishel_httpx

from musicagent.errors import InvalidParameterError
from musicagent.extensions import OPERATION_ID
from musicagent.masking import is_secret_name, mask_url
from musicagent.settings import DiscogsSettings

__all__ = [
    "CACHE_FILE_NAME",
    "REDIS_KEY_PREFIX",
    "AsyncCacheStore",
    "AsyncCacheTransport",
    "CacheIndex",
    "CacheInfo",
    "CacheKind",
    "CachePlan",
    "CachePolicy",
    "CacheStore",
    "CacheTransport",
    "HitHook",
    "Identity",
    "IndexSummary",
    "async_cache_transport",
    "cache_file_path",
    "cache_info",
    "cache_key",
    "cache_transport",
    "clear_cache",
    "from_cache",
    "invalidation_patterns",
    "key_url",
    "kind_of_operation",
    "kind_of_path",
    "plan_request",
]

logger = logging.getLogger("musicagent.cache")

CACHE_FILE_NAME = "http-cache.db"
"""Name of the SQLite cache file inside ``DISCOGS_CACHE_DIR``."""

REDIS_KEY_PREFIX = "musicagent-http"
"""Prefix of every Redis key the cache writes (``cache clear`` deletes exactly these)."""

CacheKind = Literal["database", "search", "user", "marketplace"]
"""The kinds of Discogs data that get their own lifetime in `CachePolicy`."""

Identity = str | Callable[[], str]
"""A credential fingerprint, or a function returning the current one (tokens can change)."""

HitHook = Callable[[httpx.Request], object]
"""Called with each request answered from the cache (``ClientStats.record_cache_hit``, say)."""

_KINDS: tuple[CacheKind, ...] = ("database", "search", "user", "marketplace")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CONDITIONAL_HEADERS = ("if-none-match", "if-modified-since", "if-match", "if-range", "range")
# Bumped whenever the key material changes, so an old cache file is never misread.
_KEY_VERSION = "musicagent-cache-1"


# --- what is cached for how long ------------------------------------------------------------


@dataclass(frozen=True)
class CachePolicy:
    """How long each kind of Discogs data is served from the cache, in seconds.

    ``None`` or ``0`` means that kind is never cached. Writes are never cached whatever the
    policy. ::

        CachePolicy()                          # 24 h / 1 h / 5 min / 5 min
        CachePolicy(user=None)                 # always fetch collections and wantlists fresh
        CachePolicy(database=7 * 24 * 3600)    # keep releases for a week

    Attributes:
        database: releases, masters, artists, labels, their version and release lists,
            ratings and stats.
        search: ``/database/search`` results.
        user: collection, wantlist, inventory, orders, profile, lists, identity, inventory
            exports and uploads.
        marketplace: listings, marketplace stats, fees and price suggestions.
    """

    database: float | None = 24 * 60 * 60
    search: float | None = 60 * 60
    user: float | None = 5 * 60
    marketplace: float | None = 5 * 60

    def __post_init__(self) -> None:
        for kind in _KINDS:
            value = getattr(self, kind)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise InvalidParameterError(
                    parameter=kind, allowed="seconds >= 0, or None to never cache", value=value
                )

    def ttl_for(self, kind: CacheKind) -> float | None:
        """Seconds a response of this kind stays fresh, or None when it is not cached."""
        ttl: float | None = getattr(self, kind)
        return float(ttl) if ttl else None


# Spec tags → kind; the exceptions below are operations whose data ages differently.
_KIND_OF_TAG: dict[str, CacheKind] = {
    "database": "database",
    "marketplace": "marketplace",
    "inventory": "user",
    "users": "user",
    "collection": "user",
    "wantlist": "user",
    "lists": "user",
}
_KIND_OF_OPERATION: dict[str, CacheKind] = {
    "search": "search",
    # A seller's own inventory and orders are user data, however the spec groups them.
    "get_inventory": "user",
    "list_orders": "user",
    "get_order": "user",
    "list_order_messages": "user",
    "edit_order": "user",
    "add_order_message": "user",
}
_DATABASE_ROOTS = frozenset({"releases", "masters", "artists", "labels"})
_USER_ROOTS = frozenset({"users", "lists", "inventory"})


def kind_of_operation(operation_id: str) -> CacheKind | None:
    """The kind of data an operation returns (None: never cached, e.g. the OAuth handshake).

    Raises `KeyError` for an operation id the spec does not define.
    """
    operation = OPERATIONS[operation_id]
    return _KIND_OF_OPERATION.get(operation_id) or _KIND_OF_TAG.get(operation.tag)


def kind_of_path(path: str) -> CacheKind | None:
    """The kind of data under an API path, for requests without an operation id.

    Works on concrete paths (``/releases/1``) and templates (``/releases/{release_id}``);
    None for paths that are never cached (OAuth handshake, anything unknown).
    """
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return None
    root, second = segments[0], segments[1] if len(segments) > 1 else ""
    if root in _DATABASE_ROOTS:
        return "database"
    if root == "database":
        return "search" if second == "search" and len(segments) == 2 else None
    if root == "marketplace":
        return "user" if second == "orders" else "marketplace"
    if root in _USER_ROOTS:
        return "user"
    if segments == ["oauth", "identity"]:
        return "user"
    return None


def _request_kind(path: str, operation_id: object) -> CacheKind | None:
    if isinstance(operation_id, str) and operation_id in OPERATIONS:
        return kind_of_operation(operation_id)
    return kind_of_path(path)


# --- the cache key ---------------------------------------------------------------------------


def key_url(url: httpx.URL | str) -> str:
    """The URL as it enters the cache key: query sorted, fragment dropped, no secrets.

    Values of credential parameters (``token``, ``key``, ``secret``, ``oauth_*``…) are replaced
    by a short SHA-256 fingerprint, so two tokens still give two keys but no key material or
    index row ever holds a secret.
    """
    parsed = httpx.URL(url)
    pairs = sorted(parsed.params.multi_items(), key=lambda pair: pair[0])
    safe = [(name, _fingerprint(value) if is_secret_name(name) else value) for name, value in pairs]
    return str(parsed.copy_with(params=safe, fragment=None))


def cache_key(method: str, url: httpx.URL | str, identity: str, accept: str) -> str:
    """The key a response is stored under: SHA-256 of method, URL, identity and Accept.

    ``identity`` is the credential's fingerprint (`musicagent.auth.credential_identity`), so
    users never share entries; ``accept`` separates the text formats Discogs can render.
    """
    material = "\n".join((_KEY_VERSION, method.upper(), key_url(url), identity, accept))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _fingerprint(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


# --- what a write invalidates ----------------------------------------------------------------

# Every inventory page of every user: a listing's path does not name its seller.
_ALL_INVENTORIES = ("/users/*/inventory", "/users/*/inventory/*")


def invalidation_patterns(path: str) -> tuple[str, ...]:
    """Glob patterns (``*`` spans ``/``) of the cached paths a write to ``path`` may change.

    Examples: ``/users/alice/collection/folders/1/releases/2`` →
    ``/users/alice/collection``, ``/users/alice/collection/*``, ``/users/alice``;
    ``/marketplace/listings/7`` → that listing and every cached inventory. Path segments are
    matched literally (a ``*`` in a username is not a wildcard).
    """
    segments = [segment for segment in path.split("/") if segment]
    match segments:
        case []:
            return ()
        case ["users", user, ("collection" | "wants") as area, *_]:
            # The profile counts collection and wantlist items.
            return (*_subtree("users", user, area), _literal("users", user))
        case ["users", user]:
            return (_literal("users", user),)
        case ["releases", release, "rating", *_]:
            # The release itself carries the community rating.
            return (*_subtree("releases", release, "rating"), _literal("releases", release))
        case ["marketplace", "listings", listing, *_]:
            return (*_subtree("marketplace", "listings", listing), *_ALL_INVENTORIES)
        case ["marketplace", "listings"]:
            return _ALL_INVENTORIES
        case ["marketplace", "orders", order, *_]:
            # The order, its messages, and the order list showing its status.
            return (*_subtree("marketplace", "orders", order), _literal("marketplace", "orders"))
        case ["inventory", "upload", *_]:
            return (*_subtree("inventory", "upload"), *_ALL_INVENTORIES)
        case ["inventory", area, *_]:
            return _subtree("inventory", area)
        case _:
            # Unknown write: what is under it, and the list it belongs to.
            parents = segments[:-1]
            return (*_subtree(*segments), *((_literal(*parents),) if parents else ()))


def _literal(*segments: str) -> str:
    # [x] matches x literally in both SQLite GLOB and fnmatch.
    escaped = ("".join(f"[{c}]" if c in "*?[" else c for c in segment) for segment in segments)
    return "/" + "/".join(escaped)


def _subtree(*segments: str) -> tuple[str, str]:
    prefix = _literal(*segments)
    return prefix, prefix + "/*"


# --- one decision per request (pure) ---------------------------------------------------------


@dataclass(frozen=True)
class CachePlan:
    """What the cache does with one request, decided by `plan_request` without I/O.

    Attributes:
        action: ``lookup`` (serve from cache or fetch and store), ``refresh`` (drop the stored
            response, then fetch and store), ``bypass`` (send, never store) or ``invalidate``
            (a write: send, then drop what it changed).
        path: the URL path of the request.
        kind: the kind of data (lookup/refresh only).
        key: the cache key (lookup/refresh only).
        ttl: seconds the stored response stays fresh (lookup/refresh only).
        patterns: glob patterns of cached paths to drop (invalidate only).
        reason: why a request bypasses the cache, for debugging.
    """

    action: Literal["lookup", "refresh", "bypass", "invalidate"]
    path: str
    kind: CacheKind | None = None
    key: str | None = None
    ttl: float | None = None
    patterns: tuple[str, ...] = ()
    reason: str = ""


def plan_request(request: httpx.Request, policy: CachePolicy, identity: str) -> CachePlan:
    """Decide whether a request is looked up, refreshed, sent uncached, or invalidates."""
    method = request.method.upper()
    path = request.url.path
    if method in _WRITE_METHODS:
        return CachePlan("invalidate", path, patterns=invalidation_patterns(path))
    if method != "GET":
        return CachePlan("bypass", path, reason="only GET responses are cached")
    if "authorization" in request.headers or any(map(is_secret_name, request.url.params)):
        # Its user is unknown here, and hishel would store the request as sent.
        return CachePlan("bypass", path, reason="the request carries its own credentials")
    if any(name in request.headers for name in _CONDITIONAL_HEADERS):
        return CachePlan("bypass", path, reason="conditional or range request")
    directives = _cache_control(request)
    if "no-store" in directives:
        return CachePlan("bypass", path, reason="Cache-Control: no-store")
    kind = _request_kind(path, request.extensions.get(OPERATION_ID))
    if kind is None:
        return CachePlan("bypass", path, reason="not a cacheable Discogs resource")
    ttl = policy.ttl_for(kind)
    if ttl is None:
        return CachePlan("bypass", path, kind=kind, reason=f"the policy does not cache {kind}")
    key = cache_key(method, request.url, identity, request.headers.get("accept", ""))
    fresh = "no-cache" in directives or "max-age=0" in directives
    return CachePlan("refresh" if fresh else "lookup", path, kind=kind, key=key, ttl=ttl)


def _cache_control(request: httpx.Request) -> set[str]:
    values = request.headers.get_list("cache-control", split_commas=True)
    return {value.strip().lower().replace(" ", "") for value in values}


def from_cache(response: httpx.Response) -> bool:
    """Whether the response was served from the cache (its rate-limit headers are then stale)."""
    status = response.extensions.get("caching")
    return bool(isinstance(status, dict) and status.get("from_cache"))


def _stored(response: httpx.Response) -> bool:
    status = response.extensions.get("caching")
    return bool(isinstance(status, dict) and status.get("stored"))


def _report_hit(plan: CachePlan, request: httpx.Request, on_hit: HitHook | None) -> None:
    # The logging transport sits below the cache and never sees a hit, so say it here.
    logger.debug("cache hit: %s %s (%s)", request.method, plan.path, plan.kind)
    if on_hit is not None:
        on_hit(request)


def _uncached(response: httpx.Response) -> httpx.Response:
    response.extensions["caching"] = hishel.CacheStatus(
        from_cache=False, revalidated=False, stored=False
    )
    return response


# --- the index beside the stored responses ---------------------------------------------------


@dataclass(frozen=True)
class IndexSummary:
    """Fresh entries in a `CacheIndex`: total, per kind, and the oldest and newest store times."""

    entries: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    oldest: float | None = None
    newest: float | None = None


class CacheIndex(Protocol):
    """Bookkeeping beside hishel's storage: which cache key holds which path, until when.

    hishel finds entries by exact key only; invalidating "everything under this user's
    collection" and reporting `cache_info` need this index.
    """

    def record(self, key: str, path: str, kind: str, stored_at: float, expires: float) -> None:
        """Remember that ``key`` holds a response for ``path``, fresh until ``expires``."""
        ...

    def take(self, patterns: Sequence[str]) -> list[str]:
        """Forget and return the keys whose path matches any glob pattern."""
        ...

    def forget(self, key: str) -> None:
        """Forget one key."""
        ...

    def summary(self, now: float) -> IndexSummary:
        """Counts and ages of the entries still fresh at ``now``."""
        ...

    def wipe(self, now: float) -> int:
        """Delete every stored response and index row; return how many fresh ones there were."""
        ...

    def size_bytes(self) -> int | None:
        """Bytes the cache occupies, when the backend can tell."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


_INDEX_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS musicagent_cache_index ("
    " cache_key TEXT PRIMARY KEY, path TEXT NOT NULL, kind TEXT NOT NULL,"
    " stored_at REAL NOT NULL, expires_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS musicagent_cache_index_expires"
    " ON musicagent_cache_index (expires_at)",
)
# hishel 2's SQLite tables; it refuses a database whose tables of these names differ, so the
# names are part of its file format. It offers no "remove everything" call.
_HISHEL_TABLES = ("streams", "entries")


class _SqliteIndex:
    """The index as a table in the cache's SQLite database (file or in-memory)."""

    def __init__(self, file: Path | None, responses: sqlite3.Connection | None = None) -> None:
        self._file = file
        self._responses = responses
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            target = str(self._file) if self._file is not None else ":memory:"
            connection = sqlite3.connect(
                target, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            for statement in _INDEX_SCHEMA:
                connection.execute(statement)
            self._connection = connection
        return self._connection

    def _responses_db(self) -> sqlite3.Connection:
        # In a file both live in one database; in memory hishel has a connection of its own.
        return self._responses if self._responses is not None else self._db()

    def record(self, key: str, path: str, kind: str, stored_at: float, expires: float) -> None:
        with self._lock:
            db = self._db()
            db.execute("DELETE FROM musicagent_cache_index WHERE expires_at <= ?", (stored_at,))
            db.execute(
                "INSERT OR REPLACE INTO musicagent_cache_index VALUES (?, ?, ?, ?, ?)",
                (key, path, kind, stored_at, expires),
            )

    def take(self, patterns: Sequence[str]) -> list[str]:
        if not patterns:
            return []
        where = " OR ".join("path GLOB ?" for _ in patterns)
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                rows = db.execute(
                    f"SELECT cache_key FROM musicagent_cache_index WHERE {where}", tuple(patterns)
                ).fetchall()
                db.execute(f"DELETE FROM musicagent_cache_index WHERE {where}", tuple(patterns))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return [key for (key,) in rows]

    def forget(self, key: str) -> None:
        with self._lock:
            self._db().execute("DELETE FROM musicagent_cache_index WHERE cache_key = ?", (key,))

    def summary(self, now: float) -> IndexSummary:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT kind, COUNT(*), MIN(stored_at), MAX(stored_at)"
                    " FROM musicagent_cache_index WHERE expires_at > ? GROUP BY kind",
                    (now,),
                )
                .fetchall()
            )
        return _summarise((kind, count, oldest, newest) for kind, count, oldest, newest in rows)

    def wipe(self, now: float) -> int:
        fresh = self.summary(now).entries
        with self._lock:
            responses = self._responses_db()
            tables = {
                name for (name,) in responses.execute("SELECT name FROM sqlite_master").fetchall()
            }
            for table in _HISHEL_TABLES:
                if table in tables:
                    responses.execute(f"DELETE FROM {table}")
            self._db().execute("DELETE FROM musicagent_cache_index")
            try:
                responses.execute("VACUUM")
            except sqlite3.OperationalError:
                # Another process is reading; the space is reused instead of returned.
                logger.debug("cache: VACUUM skipped, the database is busy")
        return fresh

    def size_bytes(self) -> int | None:
        if self._file is not None:
            wal = self._file.with_name(self._file.name + "-wal")
            return sum(path.stat().st_size for path in (self._file, wal) if path.exists())
        with self._lock:
            row = (
                self._responses_db()
                .execute(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
                )
                .fetchone()
            )
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class _RedisIndex:
    """The index as one Redis hash: cache key → [path, kind, stored_at, expires_at]."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._hash = f"{prefix}:musicagent-index"

    def record(self, key: str, path: str, kind: str, stored_at: float, expires: float) -> None:
        self._client.hset(self._hash, key, json.dumps([path, kind, stored_at, expires]))

    def _rows(self) -> dict[str, tuple[str, str, float, float]]:
        rows: dict[str, tuple[str, str, float, float]] = {}
        for raw_key, raw_value in self._client.hgetall(self._hash).items():
            key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            path, kind, stored_at, expires = json.loads(raw_value)
            rows[key] = (path, kind, float(stored_at), float(expires))
        return rows

    def take(self, patterns: Sequence[str]) -> list[str]:
        keys = [
            key
            for key, (path, *_) in self._rows().items()
            if any(fnmatchcase(path, pattern) for pattern in patterns)
        ]
        if keys:
            self._client.hdel(self._hash, *keys)
        return keys

    def forget(self, key: str) -> None:
        self._client.hdel(self._hash, key)

    def summary(self, now: float) -> IndexSummary:
        rows = self._rows()
        expired = [key for key, (*_, expires) in rows.items() if expires <= now]
        if expired:
            self._client.hdel(self._hash, *expired)
        fresh = [row for row in rows.values() if row[3] > now]
        return _summarise((kind, 1, stored_at, stored_at) for _, kind, stored_at, _ in fresh)

    def wipe(self, now: float) -> int:
        fresh = self.summary(now).entries
        # Everything under our prefix: hishel's entries, bodies, indexes, and this hash.
        keys = list(self._client.scan_iter(match=f"{self._prefix}:*"))
        for start in range(0, len(keys), 500):
            self._client.delete(*keys[start : start + 500])
        return fresh

    def size_bytes(self) -> int | None:
        return None

    def close(self) -> None:
        self._client.close()


def _summarise(groups: Iterable[tuple[str, int, float, float]]) -> IndexSummary:
    by_kind: dict[str, int] = {}
    oldest: float | None = None
    newest: float | None = None
    for kind, count, first, last in groups:
        by_kind[kind] = by_kind.get(kind, 0) + count
        oldest = first if oldest is None else min(oldest, first)
        newest = last if newest is None else max(newest, last)
    return IndexSummary(sum(by_kind.values()), by_kind, oldest, newest)


# --- stores: hishel storage + index ----------------------------------------------------------


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
    """

    backend: str
    location: str
    entries: int
    entries_by_kind: dict[str, int] = field(default_factory=dict)
    size_bytes: int | None = None
    oldest: datetime | None = None
    newest: datetime | None = None
    enabled: bool = True


StorageT = TypeVar("StorageT", hishel.BaseStorage, hishel.AsyncBaseStorage)


class _StoreBase(Generic[StorageT]):
    """What the sync and async stores share: construction, the index, info and clear."""

    storage: StorageT

    def __init__(
        self,
        storage: StorageT,
        index: CacheIndex,
        *,
        backend: str,
        location: str,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.storage = storage
        self.index = index
        self.backend = backend
        self.location = location
        # Looked up per call (not bound at import) so the whole cache shares one wall clock.
        self._clock = clock or _wall_clock

    # The three storages each twin builds; everything else about construction is shared.
    @staticmethod
    def _file_storage(file: Path) -> StorageT:
        raise NotImplementedError

    @staticmethod
    def _memory_storage(connection: sqlite3.Connection) -> StorageT:
        raise NotImplementedError

    @staticmethod
    def _redis_storage(redis: Any, url: str) -> StorageT:
        raise NotImplementedError

    @classmethod
    def sqlite(cls, path: str | Path, *, clock: Callable[[], float] | None = None) -> Self:
        """A SQLite file (its directory is created); several processes may share it."""
        file = Path(path).expanduser()
        file.parent.mkdir(parents=True, exist_ok=True)
        index = _SqliteIndex(file)
        return cls(
            cls._file_storage(file), index, backend="sqlite", location=str(file), clock=clock
        )

    @classmethod
    def memory(cls, *, clock: Callable[[], float] | None = None) -> Self:
        """An in-memory store for this process only (tests, short scripts)."""
        # hishel's database_path=":memory:" would create a file named ":memory:"; a
        # connection shared by hishel and the index (sqlite3 serialises calls) avoids that.
        connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        index = _SqliteIndex(None, responses=connection)
        storage = cls._memory_storage(connection)
        return cls(storage, index, backend="memory", location=":memory:", clock=clock)

    @classmethod
    def redis(cls, url: str, *, clock: Callable[[], float] | None = None) -> Self:
        """A Redis server shared by every process and host using ``url`` (``pip install redis``)."""
        redis = _import_redis()
        storage = cls._redis_storage(redis, url)
        index = _RedisIndex(redis.Redis.from_url(url), REDIS_KEY_PREFIX)
        return cls(storage, index, backend="redis", location=mask_url(url), clock=clock)

    @classmethod
    def from_settings(cls, settings: DiscogsSettings | None = None) -> Self:
        """The store the settings describe (``DISCOGS_CACHE_BACKEND``, ``_DIR``, ``REDIS_URL``)."""
        s = settings if settings is not None else DiscogsSettings()
        if s.cache_backend == "redis":
            return cls.redis(_redis_url(s))
        return cls.sqlite(cache_file_path(s))

    def _record(self, plan: CachePlan) -> None:
        assert plan.key is not None and plan.kind is not None and plan.ttl is not None
        now = self._clock()
        try:
            self.index.record(plan.key, plan.path, plan.kind, now, now + plan.ttl)
        except Exception:
            # The response is served either way; only invalidation of this entry is lost.
            logger.warning("cache: could not index %s", plan.path, exc_info=True)

    def _take(self, patterns: Sequence[str]) -> list[str]:
        try:
            return self.index.take(patterns)
        except Exception:
            logger.warning("cache: could not look up entries to invalidate", exc_info=True)
            return []

    def _forget(self, key: str) -> None:
        try:
            self.index.forget(key)
        except Exception:
            logger.warning("cache: could not update the index", exc_info=True)

    def info(self) -> CacheInfo:
        """Backend, location, fresh entries (total and per kind), size, oldest and newest."""
        summary = self.index.summary(self._clock())
        return CacheInfo(
            backend=self.backend,
            location=self.location,
            entries=summary.entries,
            entries_by_kind=summary.by_kind,
            size_bytes=self.index.size_bytes(),
            oldest=_utc(summary.oldest),
            newest=_utc(summary.newest),
        )

    def clear(self) -> int:
        """Delete every cached response; return how many were still fresh."""
        return self.index.wipe(self._clock())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self.backend!r}, location={self.location!r})"


def _wall_clock() -> float:
    return time.time()


def _utc(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None


class CacheStore(_StoreBase[hishel.BaseStorage]):
    """Where a sync client's cached responses live: a hishel storage plus the cache index.

    Build one with `CacheStore.from_settings`, `CacheStore.sqlite(path)`, `CacheStore.memory()`
    or `CacheStore.redis(url)`. A store given to `cache_transport` is not closed with the
    transport, so several clients can share it; close it yourself (or use ``with``).

    Args:
        storage: the hishel storage holding the responses.
        index: the index of what is stored under which key.
        backend: ``sqlite``, ``redis`` or ``memory`` (for `cache_info`).
        location: where it lives, secrets masked (for `cache_info`).
        clock: Unix time for the index's timestamps (``time.time`` by default).
    """

    @staticmethod
    def _file_storage(file: Path) -> hishel.BaseStorage:
        return hishel.SqliteStorage(database_path=file)

    @staticmethod
    def _memory_storage(connection: sqlite3.Connection) -> hishel.BaseStorage:
        return hishel.SqliteStorage(connection=connection)

    @staticmethod
    def _redis_storage(redis: Any, url: str) -> hishel.BaseStorage:
        client = redis.Redis.from_url(url)
        return hishel.RedisStorage(client=client, default_ttl=None, key_prefix=REDIS_KEY_PREFIX)

    def invalidate(self, patterns: Sequence[str]) -> int:
        """Drop every cached response (any identity) whose path matches a glob pattern."""
        keys = self._take(patterns)
        for key in keys:
            self.drop(key, forget=False)
        return len(keys)

    def drop(self, key: str, *, forget: bool = True) -> None:
        """Drop the responses stored under one cache key."""
        # hishel's storages log and swallow their own failures here.
        for entry in self.storage.get_entries(key):
            self.storage.remove_entry(entry.id)
        if forget:
            self._forget(key)

    def record(self, plan: CachePlan) -> None:
        """Index a response just stored for ``plan``."""
        self._record(plan)

    def close(self) -> None:
        """Close the storage and index connections."""
        self.storage.close()
        self.index.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncCacheStore(_StoreBase[hishel.AsyncBaseStorage]):
    """Async twin of `CacheStore`, holding a hishel async storage (for `AsyncDiscogs`).

    The index is synchronous and small; the async methods run it in a worker thread.
    ``info()`` and ``clear()`` are synchronous, as in `CacheStore`.
    """

    @staticmethod
    def _file_storage(file: Path) -> hishel.AsyncBaseStorage:
        return hishel.AsyncSqliteStorage(database_path=file)

    @staticmethod
    def _memory_storage(connection: sqlite3.Connection) -> hishel.AsyncBaseStorage:
        return hishel.AsyncSqliteStorage(connection=anysqlite.Connection(connection))

    @staticmethod
    def _redis_storage(redis: Any, url: str) -> hishel.AsyncBaseStorage:
        client = redis.asyncio.Redis.from_url(url)
        return hishel.AsyncRedisStorage(
            client=client, default_ttl=None, key_prefix=REDIS_KEY_PREFIX
        )

    async def invalidate(self, patterns: Sequence[str]) -> int:
        """Drop every cached response (any identity) whose path matches a glob pattern."""
        keys = await anyio.to_thread.run_sync(self._take, patterns)
        for key in keys:
            await self.drop(key, forget=False)
        return len(keys)

    async def drop(self, key: str, *, forget: bool = True) -> None:
        """Drop the responses stored under one cache key."""
        for entry in await self.storage.get_entries(key):
            await self.storage.remove_entry(entry.id)
        if forget:
            await anyio.to_thread.run_sync(self._forget, key)

    async def record(self, plan: CachePlan) -> None:
        """Index a response just stored for ``plan``."""
        await anyio.to_thread.run_sync(self._record, plan)

    async def aclose(self) -> None:
        """Close the storage and index connections."""
        await self.storage.close()
        self.index.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def cache_file_path(settings: DiscogsSettings | None = None) -> Path:
    """The SQLite cache file: ``<DISCOGS_CACHE_DIR>/http-cache.db``."""
    s = settings if settings is not None else DiscogsSettings()
    return Path(s.cache_dir).expanduser() / CACHE_FILE_NAME


def _redis_url(settings: DiscogsSettings) -> str:
    url = settings.redis_url_value()
    if not url:
        raise InvalidParameterError(
            "the redis cache backend needs DISCOGS_REDIS_URL",
            parameter="redis_url",
            allowed="a URL such as redis://localhost:6379/0",
        )
    return url


def _import_redis() -> Any:
    try:
        return importlib.import_module("redis")
    except ImportError as exc:
        raise ImportError(
            "the Redis cache backend needs the 'redis' package: pip install redis "
            "(or set DISCOGS_CACHE_BACKEND=sqlite)"
        ) from exc


# --- transports ------------------------------------------------------------------------------


def _identity_source(identity: Identity) -> Callable[[], str]:
    if callable(identity):
        return identity
    if not isinstance(identity, str) or not identity:
        raise InvalidParameterError(
            parameter="identity",
            allowed="a credential fingerprint such as credential_identity(auth)",
            value=identity,
        )
    return lambda: identity


class CacheTransport(httpx.BaseTransport):
    """Transport answering repeated GETs from the cache; place it outermost (above retry).

    Args:
        inner: the rest of the stack (retry → rate limit → auth → logging → HTTP).
        store: where responses live (`CacheStore`).
        identity: the credential's fingerprint (`credential_identity(auth)`), or a function
            returning the current one; it is part of every key.
        policy: lifetimes per kind of data; `CachePolicy()` by default.
        owns_store: close the store when the transport closes.
        on_hit: called with each request answered from the cache (e.g. to count hits).
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        store: CacheStore,
        *,
        identity: Identity,
        policy: CachePolicy | None = None,
        owns_store: bool = False,
        on_hit: HitHook | None = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self.policy = policy or CachePolicy()
        self._identity = _identity_source(identity)
        self._owns_store = owns_store
        self._on_hit = on_hit
        self._hishel = hishel_httpx.CacheTransport(next_transport=inner, storage=store.storage)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve from the cache, or send and store; after a write, drop what it changed."""
        plan = plan_request(request, self.policy, self._identity())
        if plan.key is None:
            try:
                return _uncached(self.inner.handle_request(request))
            finally:
                if plan.patterns:
                    self.store.invalidate(plan.patterns)
        if plan.action == "refresh":
            self.store.drop(plan.key)
        request.extensions["caching"] = hishel_httpx.CacheConfig(key=plan.key, ttl=plan.ttl)
        response = self._hishel.handle_request(request)
        if _stored(response):
            self.store.record(plan)
        elif from_cache(response):
            _report_hit(plan, request, self._on_hit)
        return response

    def close(self) -> None:
        """Close the wrapped transport (and the store, when this transport owns it)."""
        self.inner.close()
        if self._owns_store:
            self.store.close()


class AsyncCacheTransport(httpx.AsyncBaseTransport):
    """Async twin of `CacheTransport`, with an `AsyncCacheStore`."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        store: AsyncCacheStore,
        *,
        identity: Identity,
        policy: CachePolicy | None = None,
        owns_store: bool = False,
        on_hit: HitHook | None = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self.policy = policy or CachePolicy()
        self._identity = _identity_source(identity)
        self._owns_store = owns_store
        self._on_hit = on_hit
        self._hishel = hishel_httpx.AsyncCacheTransport(next_transport=inner, storage=store.storage)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve from the cache, or send and store; after a write, drop what it changed."""
        plan = plan_request(request, self.policy, self._identity())
        if plan.key is None:
            try:
                return _uncached(await self.inner.handle_async_request(request))
            finally:
                if plan.patterns:
                    await self.store.invalidate(plan.patterns)
        if plan.action == "refresh":
            await self.store.drop(plan.key)
        request.extensions["caching"] = hishel_httpx.AsyncCacheConfig(key=plan.key, ttl=plan.ttl)
        response = await self._hishel.handle_async_request(request)
        if _stored(response):
            await self.store.record(plan)
        elif from_cache(response):
            _report_hit(plan, request, self._on_hit)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport (and the store, when this transport owns it)."""
        await self.inner.aclose()
        if self._owns_store:
            await self.store.aclose()


def cache_transport(
    inner: httpx.BaseTransport,
    policy: CachePolicy | None = None,
    *,
    identity: Identity,
    store: CacheStore | bool | None = None,
    settings: DiscogsSettings | None = None,
    on_hit: HitHook | None = None,
) -> httpx.BaseTransport:
    """Wrap a sync transport stack in the response cache, or return it unchanged when off.

    Args:
        inner: the stack below the cache (retry → rate limit → auth → logging → HTTP).
        policy: lifetimes per kind of data; `CachePolicy()` by default.
        identity: `credential_identity(auth)`, or a function returning it (never a raw token).
        store: a `CacheStore` to use (shared, not closed with the transport); ``False`` turns
            the cache off; ``True`` turns it on even when ``DISCOGS_CACHE=off``; ``None``
            follows the settings.
        settings: where the default store lives and whether the cache is on
            (``DiscogsSettings()`` when None).
        on_hit: called with each request answered from the cache.
    """
    if store is False:
        return inner
    if isinstance(store, CacheStore):
        return CacheTransport(inner, store, identity=identity, policy=policy, on_hit=on_hit)
    s = settings if settings is not None else DiscogsSettings()
    if store is None and not s.cache_enabled:
        return inner
    owned = CacheStore.from_settings(s)
    return CacheTransport(
        inner, owned, identity=identity, policy=policy, owns_store=True, on_hit=on_hit
    )


def async_cache_transport(
    inner: httpx.AsyncBaseTransport,
    policy: CachePolicy | None = None,
    *,
    identity: Identity,
    store: AsyncCacheStore | bool | None = None,
    settings: DiscogsSettings | None = None,
    on_hit: HitHook | None = None,
) -> httpx.AsyncBaseTransport:
    """Async twin of `cache_transport` (takes an `AsyncCacheStore`)."""
    if store is False:
        return inner
    if isinstance(store, AsyncCacheStore):
        return AsyncCacheTransport(inner, store, identity=identity, policy=policy, on_hit=on_hit)
    s = settings if settings is not None else DiscogsSettings()
    if store is None and not s.cache_enabled:
        return inner
    owned = AsyncCacheStore.from_settings(s)
    return AsyncCacheTransport(
        inner, owned, identity=identity, policy=policy, owns_store=True, on_hit=on_hit
    )


# --- management: musicagent cache info | clear ----------------------------------------------


def cache_info(settings: DiscogsSettings | None = None) -> CacheInfo:
    """Describe the cache the settings point at, without creating it.

    Reports the backend, its location (Redis password masked), fresh entries in total and per
    kind, size in bytes (SQLite), and when the oldest and newest fresh entries were stored.
    """
    s = settings if settings is not None else DiscogsSettings()
    if s.cache_backend == "sqlite" and not cache_file_path(s).exists():
        path = str(cache_file_path(s))
        return CacheInfo("sqlite", path, 0, size_bytes=0, enabled=s.cache_enabled)
    with CacheStore.from_settings(s) as store:
        return replace(store.info(), enabled=s.cache_enabled)


def clear_cache(settings: DiscogsSettings | None = None) -> int:
    """Delete every cached response of the cache the settings point at.

    Returns how many fresh responses were removed (expired leftovers go too). A SQLite file is
    emptied and compacted, not deleted, so running clients keep working.
    """
    s = settings if settings is not None else DiscogsSettings()
    if s.cache_backend == "sqlite" and not cache_file_path(s).exists():
        return 0
    with CacheStore.from_settings(s) as store:
        return store.clear()
