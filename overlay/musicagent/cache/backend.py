"""What a storage backend of the cache does: one row per response, found by key or by path.

`CacheStore` decides what may be stored and contains failures; a backend (SQLite, Redis,
memory) only keeps rows. Rows never hold a credential: the store strips credential and cookie
headers before a row is built, and the key is a hash that carries only a keyed fingerprint of
the identity.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pydantic_core

from musicagent.cache.plan import CachedResponse

__all__ = ["Backend", "Entry", "Summary", "pack_entry", "summarise", "unpack_entry"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored response and what finds it again (by key, or by path for invalidation)."""

    key: str
    path: str
    kind: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored_at: float
    expires_at: float

    def __repr__(self) -> str:
        return f"Entry(path={self.path!r}, kind={self.kind!r}, status={self.status})"


@dataclass(frozen=True)
class Summary:
    """Fresh entries of a backend: total, per kind, and the oldest and newest store times."""

    entries: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    oldest: float | None = None
    newest: float | None = None


class Backend(Protocol):
    """Storage of cache rows; every method may raise, `CacheStore` contains the failure."""

    name: str
    """``sqlite``, ``redis`` or ``memory``."""
    location: str
    """Where the rows live, secrets masked."""
    offload: bool
    """True when calls do network I/O (async callers run them in a worker thread)."""

    def salt(self) -> bytes:
        """The random salt of identity fingerprints, created on first use and kept."""
        ...

    def generation(self) -> int:
        """Changes when the rows may have been lost with the salt (a Redis that came back)."""
        ...

    def get(self, key: str, now: float) -> CachedResponse | None:
        """The response stored under ``key``, if still fresh at ``now``."""
        ...

    def put(self, entry: Entry) -> None:
        """Store (or replace) one row: at most one write (SQLite writes several in one)."""
        ...

    def flush(self) -> None:
        """Write rows the backend keeps in memory before writing them (SQLite's group)."""
        ...

    def delete(self, key: str) -> None:
        """Drop the row under ``key``."""
        ...

    def invalidate(self, patterns: Sequence[str], now: float) -> int:
        """Drop every row whose path matches a glob pattern; return how many went.

        ``now`` is when the write happened, for backends that tell other processes of it.
        """
        ...

    def summary(self, now: float) -> Summary:
        """Counts and ages of the rows still fresh at ``now``."""
        ...

    def clear(self, now: float) -> int:
        """Drop every row; return how many were still fresh."""
        ...

    def size_bytes(self) -> int | None:
        """Bytes the cache occupies, when the backend can tell."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def summarise(groups: Iterable[tuple[str, int, float, float]]) -> Summary:
    """A `Summary` from (kind, count, oldest, newest) groups."""
    by_kind: dict[str, int] = {}
    oldest: float | None = None
    newest: float | None = None
    for kind, count, first, last in groups:
        by_kind[kind] = by_kind.get(kind, 0) + count
        oldest = first if oldest is None else min(oldest, first)
        newest = last if newest is None else max(newest, last)
    return Summary(sum(by_kind.values()), by_kind, oldest, newest)


def encode_headers(headers: list[tuple[str, str]]) -> str:
    """Headers as stored: a JSON list of [name, value] pairs.

    pydantic-core writes it (a fifth of the standard library's time, once per miss). Values
    are latin-1 text and come out as UTF-8 JSON rather than ``\\u`` escapes; rows written
    either way decode alike.
    """
    return pydantic_core.to_json(headers).decode("utf-8")


def decode_headers(text: str | bytes) -> list[tuple[str, str]]:
    """The inverse of `encode_headers` (and of the standard library's spelling of it)."""
    return [(str(name), str(value)) for name, value in pydantic_core.from_json(text)]


# One value per response for key-value backends: a fixed header, the header list, the body.
_PACK_MAGIC = b"MA2"
_PACK_HEAD = struct.Struct(">3sHdI")


def pack_entry(entry: Entry) -> bytes:
    """One response as a single value: status, stored_at, headers and body."""
    headers = encode_headers(entry.headers).encode("utf-8")
    head = _PACK_HEAD.pack(_PACK_MAGIC, entry.status, entry.stored_at, len(headers))
    return head + headers + entry.body


def unpack_entry(value: bytes) -> CachedResponse | None:
    """The response packed by `pack_entry`; None for anything else (an old or foreign value)."""
    if len(value) < _PACK_HEAD.size:
        return None
    magic, status, stored_at, length = _PACK_HEAD.unpack_from(value)
    if magic != _PACK_MAGIC:
        return None
    start = _PACK_HEAD.size
    headers = decode_headers(value[start : start + length])
    return CachedResponse(status, headers, value[start + length :], stored_at)
