"""The SQLite backend: one table, one connection, stored responses written in groups.

The file lives in a folder of mode 0700 and is created with mode 0600 (SQLite gives its
``-wal`` and ``-shm`` companions the same mode). WAL with ``synchronous=NORMAL``: no fsync per
write; a crash may lose the last responses stored, which is harmless in a cache.

Group commit: a stored response waits in memory (where this process already finds it) until
32 have gathered, 1 MiB of bodies, or the oldest has waited a second; then one transaction
writes them all. Each miss pays a share of one ``INSERT`` transaction instead of a whole one:
the locks, the file header and the index pages are written once per group. Closing the
backend, and the end of the process, write what is waiting.

Several processes may share the file. One that writes to Discogs drops the stale answers
and records the paths it invalidated for a minute (``musicagent_invalidations``): a group
another process writes later drops those of its rows that were received before that
invalidation, so a response waiting in memory cannot outlive a write made elsewhere.

A file left by an older version (its ``entries``/``streams`` tables held requests as sent,
credentials included) has those tables dropped when it is opened.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

from musicagent.cache.backend import Entry, Summary, decode_headers, encode_headers, summarise
from musicagent.cache.plan import CachedResponse

__all__ = ["CACHE_FILE_NAME", "SqliteBackend"]

logger = logging.getLogger("musicagent.cache")

CACHE_FILE_NAME = "http-cache.db"
"""Name of the SQLite cache file inside ``DISCOGS_CACHE_DIR``."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS musicagent_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS musicagent_responses ("
    " cache_key TEXT PRIMARY KEY, path TEXT NOT NULL, kind TEXT NOT NULL,"
    " status INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL,"
    " stored_at REAL NOT NULL, expires_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS musicagent_responses_expires ON musicagent_responses (expires_at)",
    "CREATE TABLE IF NOT EXISTS musicagent_invalidations (pattern TEXT NOT NULL, at REAL NOT NULL)",
)
# Tables of the earlier format: its request/response storage and the index kept beside it.
_LEGACY_TABLES = ("entries", "streams", "musicagent_cache_index")
_SIDE_FILES = ("-wal", "-shm", "-journal")
# Expired rows are swept once per this many rows written, in the same transaction.
_SWEEP_EVERY = 512
# A group is written when it holds this many responses, this many body bytes, or its oldest
# response has waited this long.
_GROUP_ROWS = 32
_GROUP_BYTES = 1 << 20
_GROUP_SECONDS = 1.0
# How long an invalidation is remembered for the groups of other processes (far above the
# longest a response waits in memory).
_INVALIDATION_MEMORY = 60.0
_INSERT = "INSERT OR REPLACE INTO musicagent_responses VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_PAGE_SIZE = 16384
_FILE_MODE = 0o600
_DIR_MODE = 0o700


class SqliteBackend:
    """Cache rows in a SQLite file (opened on first use, so a bad folder fails no request).

    Args:
        file: the database file; its folder is created (mode 0700) when missing.
    """

    name = "sqlite"
    offload = False

    def __init__(self, file: Path) -> None:
        self.file = file
        self.location = str(file)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._writes = 0
        # Responses stored but not yet written, in the order they came (see the module doc).
        self._pending: dict[str, Entry] = {}
        self._pending_bytes = 0
        self._pending_since = 0.0
        self._timer: threading.Timer | None = None
        self._warned = False
        _LIVE.add(self)

    # --- connection ------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            _prepare_folder(self.file.parent)
            _prepare_file(self.file)
            connection = sqlite3.connect(
                str(self.file), timeout=5.0, isolation_level=None, check_same_thread=False
            )
            try:
                # Taken by a new file only (an existing one keeps its own): responses are
                # blobs of 2 to 200 KB, and with 16 KiB pages a 100 KB answer (a page of a
                # list) is 7 WAL frames instead of 25, about 40% less CPU per stored row, at no
                # cost for small ones.
                connection.execute(f"PRAGMA page_size={_PAGE_SIZE}")
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                _migrate(connection)
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    @contextlib.contextmanager
    def _transaction(self, db: sqlite3.Connection) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # --- rows ------------------------------------------------------------------------------

    def generation(self) -> int:
        """Always 0: the salt lives with the rows and cannot vanish on its own."""
        return 0

    def salt(self) -> bytes:
        with self._lock:
            db = self._db()
            # INSERT OR IGNORE: when two processes race, both read the one that won.
            db.execute(
                "INSERT OR IGNORE INTO musicagent_meta VALUES ('salt', ?)",
                (secrets.token_bytes(32),),
            )
            row = db.execute("SELECT value FROM musicagent_meta WHERE name = 'salt'").fetchone()
        return bytes(row[0])

    def get(self, key: str, now: float) -> CachedResponse | None:
        with self._lock:
            waiting = self._pending.get(key)
            if waiting is not None:
                # Nothing in the file can be newer than what this process stored last.
                if waiting.expires_at <= now:
                    return None
                return CachedResponse(
                    waiting.status, list(waiting.headers), waiting.body, waiting.stored_at
                )
            row = (
                self._db()
                .execute(
                    "SELECT status, headers, body, stored_at FROM musicagent_responses"
                    " WHERE cache_key = ? AND expires_at > ?",
                    (key, now),
                )
                .fetchone()
            )
        if row is None:
            return None
        status, headers, body, stored_at = row
        return CachedResponse(int(status), decode_headers(headers), bytes(body), float(stored_at))

    def put(self, entry: Entry) -> None:
        with self._lock:
            if not self._pending:
                self._pending_since = time.monotonic()
                self._schedule(_GROUP_SECONDS)
            replaced = self._pending.pop(entry.key, None)
            if replaced is not None:
                self._pending_bytes -= len(replaced.body)
            self._pending[entry.key] = entry
            self._pending_bytes += len(entry.body)
            if (
                len(self._pending) >= _GROUP_ROWS
                or self._pending_bytes >= _GROUP_BYTES
                or time.monotonic() - self._pending_since >= _GROUP_SECONDS
            ):
                self._write_group()

    def flush(self) -> None:
        """Write the responses waiting in memory now."""
        with self._lock:
            self._write_group()

    def delete(self, key: str) -> None:
        with self._lock:
            dropped = self._pending.pop(key, None)
            if dropped is not None:
                self._pending_bytes -= len(dropped.body)
            self._db().execute("DELETE FROM musicagent_responses WHERE cache_key = ?", (key,))

    def invalidate(self, patterns: Sequence[str], now: float) -> int:
        if not patterns:
            return 0
        where = " OR ".join("path GLOB ?" for _ in patterns)
        with self._lock:
            db = self._db()
            with self._transaction(db):
                # This process's waiting responses go in first, so the same DELETE drops them.
                self._write_pending(db)
                cursor = db.execute(
                    f"DELETE FROM musicagent_responses WHERE {where}", tuple(patterns)
                )
                # Remembered for the groups other processes have still to write.
                db.execute(
                    "DELETE FROM musicagent_invalidations WHERE at < ?",
                    (now - _INVALIDATION_MEMORY,),
                )
                db.executemany(
                    "INSERT INTO musicagent_invalidations VALUES (?, ?)",
                    [(pattern, now) for pattern in patterns],
                )
        return max(cursor.rowcount, 0)

    def _write_group(self) -> None:
        # With the lock held: the waiting responses in a transaction of their own.
        if not self._pending:
            return
        try:
            db = self._db()
            with self._transaction(db):
                self._write_pending(db)
        finally:
            # Written, or dropped when the file could not take them: a cache may forget, and
            # a group kept for another try would grow without bound while the disk is full.
            self._forget_pending_locked()

    def _write_pending(self, db: sqlite3.Connection) -> None:
        # Inside a transaction, with the lock held; the group leaves memory first.
        if not self._pending:
            return
        group = list(self._pending.values())
        self._forget_pending_locked()
        db.executemany(
            _INSERT,
            [
                (
                    entry.key,
                    entry.path,
                    entry.kind,
                    entry.status,
                    encode_headers(entry.headers),
                    entry.body,
                    entry.stored_at,
                    entry.expires_at,
                )
                for entry in group
            ],
        )
        oldest = min(entry.stored_at for entry in group)
        # Paths another process invalidated after some of this group were received.
        for pattern, at in db.execute(
            "SELECT pattern, at FROM musicagent_invalidations WHERE at >= ?", (oldest,)
        ).fetchall():
            db.execute(
                "DELETE FROM musicagent_responses WHERE path GLOB ? AND stored_at <= ?",
                (pattern, at),
            )
        before = self._writes
        self._writes += len(group)
        if before // _SWEEP_EVERY != self._writes // _SWEEP_EVERY:
            db.execute("DELETE FROM musicagent_responses WHERE expires_at <= ?", (oldest,))

    def _schedule(self, delay: float) -> None:
        # One timer at a time writes a group that waited long enough; it holds the backend
        # weakly, so a backend nobody keeps is not kept alive by its timer.
        if self._timer is None:
            timer = threading.Timer(delay, _timer_fired, (weakref.ref(self),))
            timer.daemon = True
            self._timer = timer
            timer.start()

    def _write_when_due(self) -> None:
        with self._lock:
            self._timer = None
            if not self._pending:
                return
            wait = self._pending_since + _GROUP_SECONDS - time.monotonic()
            if wait > 0:
                self._schedule(wait)
                return
            try:
                self._write_group()
            except Exception as exc:
                self._report(exc)

    def _report(self, exc: Exception) -> None:
        # Outside any request: nothing else would say why responses were not kept.
        if not self._warned:
            self._warned = True
            logger.warning(
                "cache: could not write stored responses to %s (%s: %s); they are forgotten",
                self.file,
                type(exc).__name__,
                exc,
            )
        else:
            logger.debug("cache: could not write stored responses: %s", exc)

    def summary(self, now: float) -> Summary:
        self.flush()
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT kind, COUNT(*), MIN(stored_at), MAX(stored_at)"
                    " FROM musicagent_responses WHERE expires_at > ? GROUP BY kind",
                    (now,),
                )
                .fetchall()
            )
        return summarise((str(kind), int(n), float(a), float(b)) for kind, n, a, b in rows)

    def clear(self, now: float) -> int:
        """Empty the table and compact the file; a corrupt file is removed and started afresh."""
        try:
            fresh = self.summary(now).entries
            with self._lock:
                self._forget_pending_locked()
                db = self._db()
                db.execute("DELETE FROM musicagent_responses")
                with contextlib.suppress(sqlite3.OperationalError):
                    # Another process is reading: the space is reused instead of returned.
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    db.execute("VACUUM")
            return fresh
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            logger.warning(
                "cache: %s is unreadable (%s); removed it, the cache starts empty",
                self.file,
                exc,
            )
            self._remove_files()
            return 0

    def size_bytes(self) -> int | None:
        self.flush()
        files = [self.file, *(self.file.with_name(self.file.name + s) for s in _SIDE_FILES)]
        return sum(path.stat().st_size for path in files if path.exists())

    def close(self) -> None:
        """Write the responses still waiting, then release the connection."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            try:
                self._write_group()
            finally:
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None

    def _forget_pending(self) -> None:
        with self._lock:
            self._forget_pending_locked()

    def _forget_pending_locked(self) -> None:
        self._pending.clear()
        self._pending_bytes = 0

    def _remove_files(self) -> None:
        self._forget_pending()
        self.close()
        for suffix in ("", *_SIDE_FILES):
            with contextlib.suppress(FileNotFoundError):
                self.file.with_name(self.file.name + suffix).unlink()

    def __repr__(self) -> str:
        return f"SqliteBackend({self.location!r})"


def _timer_fired(backend: weakref.ref[SqliteBackend]) -> None:
    alive = backend()
    if alive is not None:
        alive._write_when_due()


_LIVE: weakref.WeakSet[SqliteBackend] = weakref.WeakSet()


def _start_afresh_in_child() -> None:
    # A forked child inherits neither the timer thread nor a usable lock or connection
    # (SQLite connections must not cross a fork), and the rows waiting are the parent's to
    # write: the child begins with none of them.
    for backend in list(_LIVE):
        backend._lock = threading.Lock()
        backend._timer = None
        backend._connection = None
        backend._forget_pending_locked()


os.register_at_fork(after_in_child=_start_afresh_in_child)


@atexit.register
def _write_all_pending() -> None:
    # A program that ends without closing its client still keeps what it fetched last.
    for backend in list(_LIVE):
        if backend._pending:
            try:
                backend.flush()
            except Exception as exc:
                backend._report(exc)


def _prepare_folder(folder: Path) -> None:
    if not folder.exists():
        folder.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask; the folder must not be readable by others.
        os.chmod(folder, _DIR_MODE)
        return
    info = folder.stat()
    if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.getuid() and _only_ours(folder):
        # A folder an earlier version created with the default mode 0755.
        os.chmod(folder, _DIR_MODE)


def _only_ours(folder: Path) -> bool:
    # Tighten a folder only when it holds nothing but the cache, never a folder chosen for more.
    return all(child.name.startswith(CACHE_FILE_NAME) for child in folder.iterdir())


def _prepare_file(file: Path) -> None:
    descriptor = os.open(file, os.O_RDWR | os.O_CREAT, _FILE_MODE)
    os.close(descriptor)
    for suffix in ("", *_SIDE_FILES):
        path = file.with_name(file.name + suffix)
        # A file an earlier version created with mode 0644.
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(path.stat().st_mode) != _FILE_MODE:
                os.chmod(path, _FILE_MODE)


def _migrate(db: sqlite3.Connection) -> None:
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    legacy = [table for table in _LEGACY_TABLES if table in tables]
    for statement in _SCHEMA:
        db.execute(statement)
    if legacy:
        # Those tables held requests as they were sent, credentials included: drop and compact.
        for table in legacy:
            db.execute(f"DROP TABLE {table}")
        db.execute("VACUUM")
        # VACUUM wrote the compacted file through the WAL; the old pages must leave it too.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        logger.info("cache: removed the tables of an earlier cache format")
