"""The SQLite backend: one table, one connection, one write transaction per stored response.

The file lives in a folder of mode 0700 and is created with mode 0600 (SQLite gives its
``-wal`` and ``-shm`` companions the same mode). WAL with ``synchronous=NORMAL``: a miss costs
one ``INSERT`` and no fsync of its own; a crash may lose the last responses stored, which is
harmless in a cache. Several processes may share the file.

A file left by an older version (its ``entries``/``streams`` tables held requests as sent,
credentials included) has those tables dropped when it is opened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import stat
import threading
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
)
# Tables of the earlier format: its request/response storage and the index kept beside it.
_LEGACY_TABLES = ("entries", "streams", "musicagent_cache_index")
_SIDE_FILES = ("-wal", "-shm", "-journal")
# Expired rows are swept inside every this-many-th write, in the same transaction.
_SWEEP_EVERY = 512
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

    # --- connection ------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            _prepare_folder(self.file.parent)
            _prepare_file(self.file)
            connection = sqlite3.connect(
                str(self.file), timeout=5.0, isolation_level=None, check_same_thread=False
            )
            try:
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
        row = (
            entry.key,
            entry.path,
            entry.kind,
            entry.status,
            encode_headers(entry.headers),
            entry.body,
            entry.stored_at,
            entry.expires_at,
        )
        insert = "INSERT OR REPLACE INTO musicagent_responses VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        with self._lock:
            db = self._db()
            self._writes += 1
            if self._writes % _SWEEP_EVERY:
                db.execute(insert, row)  # autocommit: one statement, one transaction
                return
            with self._transaction(db):
                db.execute(
                    "DELETE FROM musicagent_responses WHERE expires_at <= ?", (entry.stored_at,)
                )
                db.execute(insert, row)

    def delete(self, key: str) -> None:
        with self._lock:
            self._db().execute("DELETE FROM musicagent_responses WHERE cache_key = ?", (key,))

    def invalidate(self, patterns: Sequence[str]) -> int:
        if not patterns:
            return 0
        where = " OR ".join("path GLOB ?" for _ in patterns)
        with self._lock:
            cursor = self._db().execute(
                f"DELETE FROM musicagent_responses WHERE {where}", tuple(patterns)
            )
        return max(cursor.rowcount, 0)

    def summary(self, now: float) -> Summary:
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
        files = [self.file, *(self.file.with_name(self.file.name + s) for s in _SIDE_FILES)]
        return sum(path.stat().st_size for path in files if path.exists())

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _remove_files(self) -> None:
        self.close()
        for suffix in ("", *_SIDE_FILES):
            with contextlib.suppress(FileNotFoundError):
                self.file.with_name(self.file.name + suffix).unlink()

    def __repr__(self) -> str:
        return f"SqliteBackend({self.location!r})"


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
