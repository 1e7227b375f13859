"""The in-memory backend: a dictionary for one process (tests, short scripts)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from fnmatch import fnmatchcase

from musicagent.cache.backend import Entry, Summary, summarise
from musicagent.cache.plan import CachedResponse

__all__ = ["MemoryBackend"]


class MemoryBackend:
    """Cache rows in a dictionary guarded by a lock; nothing outlives the process."""

    name = "memory"
    location = ":memory:"
    offload = False

    def __init__(self) -> None:
        self._rows: dict[str, Entry] = {}
        self._lock = threading.Lock()
        self._salt = secrets.token_bytes(32)

    def generation(self) -> int:
        """Always 0: the salt lives with the rows and cannot vanish on its own."""
        return 0

    def salt(self) -> bytes:
        return self._salt

    def get(self, key: str, now: float) -> CachedResponse | None:
        with self._lock:
            entry = self._rows.get(key)
        if entry is None or entry.expires_at <= now:
            return None
        return CachedResponse(entry.status, list(entry.headers), entry.body, entry.stored_at)

    def put(self, entry: Entry) -> None:
        with self._lock:
            self._rows[entry.key] = entry

    def flush(self) -> None:
        """Nothing waits: every row is kept as it is stored."""

    def delete(self, key: str) -> None:
        with self._lock:
            self._rows.pop(key, None)

    def invalidate(self, patterns: Sequence[str], now: float) -> int:
        with self._lock:
            doomed = [
                key
                for key, entry in self._rows.items()
                if any(fnmatchcase(entry.path, pattern) for pattern in patterns)
            ]
            for key in doomed:
                del self._rows[key]
        return len(doomed)

    def summary(self, now: float) -> Summary:
        with self._lock:
            expired = [key for key, entry in self._rows.items() if entry.expires_at <= now]
            for key in expired:
                del self._rows[key]
            fresh = list(self._rows.values())
        return summarise((e.kind, 1, e.stored_at, e.stored_at) for e in fresh)

    def clear(self, now: float) -> int:
        fresh = self.summary(now).entries
        with self._lock:
            self._rows.clear()
        return fresh

    def size_bytes(self) -> int | None:
        with self._lock:
            return sum(len(entry.body) for entry in self._rows.values())

    def close(self) -> None:
        """Nothing to release; the rows stay until the store is dropped."""

    def __repr__(self) -> str:
        return f"MemoryBackend({len(self._rows)} entries)"
