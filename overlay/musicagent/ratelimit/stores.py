"""Where a limiter's window lives: in this process, or in a SQLite file several processes share.

A store answers four questions atomically: reserve a slot, give one back, learn what the server
counts, and report the window. Local stores hold the window as a list of entries and apply the
rules of `musicagent.ratelimit.window` inside one exclusive transaction; the Redis store (in
`musicagent.ratelimit.redis_store`) runs the same rules inside Redis.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from musicagent.ratelimit import window
from musicagent.ratelimit.window import Entry, Held, WindowSnapshot

__all__ = [
    "Clock",
    "LocalWindowStore",
    "MemoryRateLimitStore",
    "RateLimitStore",
    "Reservation",
    "SqliteRateLimitStore",
    "budget_key",
]

_logger = logging.getLogger("musicagent.ratelimit")

Clock = Callable[[], float]
"""Returns the current time in seconds."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """A slot taken for one request: when it may go, how long to wait, and how to give it back.

    `slot` is on the store's clock; `token` identifies the reservation where the store needs
    more than its time to find it again (the Redis store).

    The other fields let the limiter check a response's count without opening the store again
    (see `musicagent.ratelimit.window.admit`): `now` is the store's time when the slot was
    taken, `held` what of the window is sure to count until when, `store_clock` is True when
    both are on a clock of the store's own (Redis) rather than the limiter's, and `epoch` the
    store's `epoch` then. A store that leaves `held` empty has every response checked in it.
    """

    slot: float
    wait: float
    token: str = ""
    now: float = 0.0
    held: Held = ()
    store_clock: bool = False
    epoch: int = 0


class RateLimitStore(Protocol):
    """The window a limiter spends, with every operation atomic across all who share it.

    `clock` is the limiter's clock, read inside the store's transaction (a reading taken before
    waiting for the lock would date a request too early); a store with a clock of its own
    (Redis) uses that one instead. `limit` and `span` (window plus safety margin) come from
    the limiter.

    A store may also have an `epoch` (an int) that changes whenever the window it serves may
    have lost entries (a state file started afresh, a Redis outage or return): a reservation's
    `held` promise stands only within its epoch.
    """

    def reserve(self, clock: Clock, limit: int, span: float) -> Reservation:
        """Take the next free slot for one request."""
        ...

    def release(self, reservation: Reservation) -> None:
        """Give back a slot whose request was never sent."""
        ...

    def correct(self, clock: Clock, limit: int, span: float, server_used: int) -> None:
        """Record that the server counts `server_used` requests in its window (0..limit)."""
        ...

    def fill(self, clock: Clock, limit: int, span: float) -> None:
        """Record that the server says the window is full (a 429)."""
        ...

    def snapshot(self, clock: Clock, limit: int, span: float) -> WindowSnapshot:
        """Units used, all units and seconds until the next free slot."""
        ...


class _Tally:
    """A window's entries and their units, as one transaction sees them."""

    __slots__ = ("entries", "units")

    def __init__(self, entries: list[Entry], units: int) -> None:
        self.entries = entries
        self.units = units


class LocalWindowStore(abc.ABC):
    """A store whose window is a list of entries read and written in one exclusive transaction."""

    epoch = 0
    """Changes when the window is started afresh (see `RateLimitStore`)."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[list[Entry]]:
        """Yield the sorted entries; changes made to the list are kept when the block ends."""

    @contextmanager
    def _tally(self) -> Iterator[_Tally]:
        """One transaction, with the units of its entries (counted here; a store keeping a
        running total hands that instead)."""
        with self.transaction() as entries:
            yield _Tally(entries, window.units(entries))

    @contextmanager
    def _window(self, clock: Clock, limit: int, span: float) -> Iterator[tuple[_Tally, float]]:
        with self._tally() as tally:
            now = clock()
            tally.units -= window.tidy(tally.entries, now, limit, span)
            yield tally, now

    def reserve(self, clock: Clock, limit: int, span: float) -> Reservation:
        """Take the next free slot for one request."""
        with self._window(clock, limit, span) as (tally, now):
            epoch = self.epoch
            slot, held = window.admit(tally.entries, now, limit, span, tally.units)
            tally.units += 1
        return Reservation(slot=slot, wait=slot - now, now=now, held=held, epoch=epoch)

    def release(self, reservation: Reservation) -> None:
        """Give back a slot whose request was never sent (when nothing queued behind it)."""
        with self._tally() as tally:
            tally.units -= window.release(tally.entries, reservation.slot)

    def correct(self, clock: Clock, limit: int, span: float, server_used: int) -> None:
        """Record that the server counts `server_used` requests in its window."""
        with self._window(clock, limit, span) as (tally, now):
            tally.units += window.add_unaccounted(tally.entries, now, server_used, tally.units)

    def fill(self, clock: Clock, limit: int, span: float) -> None:
        """Record a full window."""
        with self._window(clock, limit, span) as (tally, now):
            tally.units += window.fill(tally.entries, now, limit, tally.units)

    def snapshot(self, clock: Clock, limit: int, span: float) -> WindowSnapshot:
        """Units used, all units and seconds until the next free slot."""
        with self._window(clock, limit, span) as (tally, now):
            return window.snapshot(tally.entries, now, limit, span, tally.units)


class MemoryRateLimitStore(LocalWindowStore):
    """The window held in this process (the default store).

    It keeps the units of its window as a running total, so a reservation costs the same
    whatever the window holds (a budget raised far above Discogs' own holds every request
    of the last window).
    """

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._units: int | None = 0
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[list[Entry]]:
        """Yield the list itself, under this store's lock."""
        with self._lock:
            # Whatever the caller changes, the running total is counted again on next use.
            self._units = None
            yield self._entries

    @contextmanager
    def _tally(self) -> Iterator[_Tally]:
        with self._lock:
            known = self._units
            tally = _Tally(self._entries, window.units(self._entries) if known is None else known)
            self._units = None  # until the block ends normally
            yield tally
            self._units = tally.units


def budget_key(salt: bytes, budget: str) -> str:
    """The keyed fingerprint a shared store files a budget under: HMAC-SHA256 with `salt`.

    The budget name is a credential fingerprint or a name chosen on purpose; either way the
    store keeps only this keyed hash, and the salt is random per store.
    """
    return hmac.new(salt, budget.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


_SCHEMA_VERSION = "2"
_META_TABLE = "musicagent_ratelimit_meta"
_ENTRIES_TABLE = "musicagent_ratelimit_entries"
_OUR_TABLES = frozenset({_META_TABLE, _ENTRIES_TABLE})
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {_META_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {_ENTRIES_TABLE} ("
    "budget TEXT NOT NULL, sent_at REAL NOT NULL, units INTEGER NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {_ENTRIES_TABLE}_budget ON {_ENTRIES_TABLE} (budget, sent_at)",
)


class _UnusableStateFile(Exception):
    """The file is not a rate-limit state file of this version."""


class SqliteRateLimitStore(LocalWindowStore):
    """The window kept in a small SQLite file, so several processes on one machine share it.

    One file holds one window per budget: `budget` is the credential fingerprint the limiter
    passes (see `RateLimiter.shared`) or a name shared on purpose, filed under a keyed hash
    (`budget_key`, with a random salt kept in the file), never the credential. Every
    read-modify-write runs in a `BEGIN IMMEDIATE` transaction, so two processes cannot both
    take the last free slot. Times are wall-clock (`time.time`), the only clock processes
    share; entries a stepped clock dated beyond the window's end are discarded
    (`window.tidy`). A file that is not a state file of this version (garbage, corrupt, an
    older or foreign schema) is moved aside as `<name>.unusable-<time>` and a new one is
    started, with one warning. The connection opens on first use.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, budget: str = "default", timeout: float = 30.0
    ) -> None:
        self.path = os.fspath(path)
        self._budget = budget
        self._timeout = timeout
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._key = ""

    @contextmanager
    def transaction(self) -> Iterator[list[Entry]]:
        """Lock the file, yield this budget's entries, write back any change on success."""
        with self._lock:
            connection = self._connected()
            try:
                connection.execute("BEGIN IMMEDIATE")
                rows = connection.execute(
                    f"SELECT sent_at, units FROM {_ENTRIES_TABLE} WHERE budget = ? "
                    "ORDER BY sent_at",
                    (self._key,),
                ).fetchall()
            except sqlite3.OperationalError:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            except sqlite3.DatabaseError as exc:
                # Damaged since we opened it: start again once, on a fresh file.
                self._discard(connection, exc)
                connection = self._connected()
                connection.execute("BEGIN IMMEDIATE")
                rows = []
            entries: list[Entry] = [(float(sent_at), int(units)) for sent_at, units in rows]
            original = list(entries)
            try:
                yield entries
                if entries != original:
                    connection.execute(
                        f"DELETE FROM {_ENTRIES_TABLE} WHERE budget = ?", (self._key,)
                    )
                    connection.executemany(
                        f"INSERT INTO {_ENTRIES_TABLE} (budget, sent_at, units) VALUES (?, ?, ?)",
                        [(self._key, sent_at, units) for sent_at, units in entries],
                    )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        """Close the database connection (a later use opens it again)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __repr__(self) -> str:
        return f"SqliteRateLimitStore({self.path!r})"

    def _connected(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self._connection, salt = self._open()
            except _UnusableStateFile as exc:
                self._move_aside(str(exc))
                self._connection, salt = self._open()
            self._key = budget_key(salt, self._budget)
        return self._connection

    def _open(self) -> tuple[sqlite3.Connection, bytes]:
        with contextlib.suppress(FileExistsError):
            # Created private: it names no secret, but it is nobody else's business either.
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves instead of the module's
        # implicit deferred transactions, which would let two writers read the same state.
        connection = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            salt = _prepare(connection)
        except sqlite3.OperationalError:
            # Locked past the timeout, unreadable, out of space: not a sign of a bad file.
            connection.close()
            raise
        except (sqlite3.DatabaseError, _UnusableStateFile) as exc:
            connection.close()
            raise _UnusableStateFile(_reason(exc)) from None
        except BaseException:
            connection.close()
            raise
        return connection, salt

    def _discard(self, connection: sqlite3.Connection, exc: sqlite3.DatabaseError) -> None:
        with contextlib.suppress(sqlite3.Error):
            connection.close()
        self._connection = None
        self._move_aside(_reason(exc))

    def _move_aside(self, reason: str) -> None:
        # The window starts afresh: what reservations promised of the old one no longer holds.
        self.epoch += 1
        aside = f"{self.path}.unusable-{int(time.time())}"
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            # Another process moved it first and may have started the new file already.
            return
        _logger.warning(
            "rate-limit state file %s was unusable (%s); moved it to %s and started a new one",
            self.path,
            reason,
            aside,
        )


def _prepare(connection: sqlite3.Connection) -> bytes:
    """Create the schema in an empty file, check it in an existing one; return the salt."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if tables - _OUR_TABLES:
            raise _UnusableStateFile(f"unexpected tables {sorted(tables - _OUR_TABLES)}")
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.execute(
            f"INSERT OR IGNORE INTO {_META_TABLE} (name, value) VALUES ('schema', ?)",
            (_SCHEMA_VERSION,),
        )
        connection.execute(
            f"INSERT OR IGNORE INTO {_META_TABLE} (name, value) VALUES ('salt', ?)",
            (secrets.token_hex(32),),
        )
        meta = dict(connection.execute(f"SELECT name, value FROM {_META_TABLE}").fetchall())
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({_ENTRIES_TABLE})")}
        if meta.get("schema") != _SCHEMA_VERSION or columns != {"budget", "sent_at", "units"}:
            found = f"schema {meta.get('schema')!r} with columns {sorted(columns)}"
            raise _UnusableStateFile(found)
        try:
            salt = bytes.fromhex(str(meta["salt"]))
        except ValueError:
            raise _UnusableStateFile("salt is not hexadecimal") from None
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return salt


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
