"""The mirror's database: one SQLite file, one table per kind of Discogs entity.

Every entity table is keyed by the Discogs id that identifies it and keeps the body Discogs sent
in a `raw` JSON column, so nothing is lost when a field has no column of its own. Join tables
tie collection instances, wants, listings, orders and list items to releases, and releases to
their artists and labels. `sync_runs` says when each sync ran, what it synced, how many
requests it sent and how many rows it changed; `walks` holds the progress of a list walk still
under way, so the next run continues it.

The file is created `0600` (a collection, orders and notes are private) and opened in WAL mode
with one transaction per fetched page: a kill at any moment leaves the last committed page.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from musicagent.errors import LocalIOError

SCHEMA_VERSION = 1
"""Bumped when a table changes shape; a file of another version is refused, never guessed at."""

DEFAULT_FILE_NAME = "mirror.db"

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,            -- running, done, failed, interrupted
    kinds TEXT NOT NULL,             -- what was asked: collection,wantlist,...
    hydrate TEXT NOT NULL,           -- releases,masters,stats or empty
    prices INTEGER NOT NULL,         -- 1 when price snapshots were taken
    requests INTEGER NOT NULL DEFAULT 0,
    cache_hits INTEGER NOT NULL DEFAULT 0,
    changed_rows INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE TABLE IF NOT EXISTS walks (
    kind TEXT NOT NULL,
    username TEXT NOT NULL,
    walk_id INTEGER NOT NULL,        -- the run that started the walk; rows it saw carry it
    next_page INTEGER NOT NULL,
    pages INTEGER,
    PRIMARY KEY (kind, username)
);
CREATE TABLE IF NOT EXISTS list_counts (
    kind TEXT NOT NULL,
    username TEXT NOT NULL,
    items INTEGER NOT NULL,          -- what Discogs counted at the last complete sync
    synced_run INTEGER NOT NULL,
    PRIMARY KEY (kind, username)
);

CREATE TABLE IF NOT EXISTS releases (
    release_id INTEGER PRIMARY KEY,
    title TEXT,
    year INTEGER,
    master_id INTEGER,
    country TEXT,
    released TEXT,
    genres TEXT,                     -- JSON array
    styles TEXT,                     -- JSON array
    formats TEXT,                    -- JSON array
    barcodes TEXT,                   -- JSON array of the identifiers of type Barcode
    community_have INTEGER,
    community_want INTEGER,
    community_rating REAL,
    community_votes INTEGER,
    lowest_price REAL,
    num_for_sale INTEGER,
    basic TEXT,                      -- JSON: basic_information from a list page
    raw TEXT,                        -- JSON: the full release body (hydrated), else NULL
    hydrated_at REAL                 -- when the full body was fetched (epoch seconds)
);
CREATE TABLE IF NOT EXISTS artists (
    artist_id INTEGER PRIMARY KEY,
    name TEXT,
    raw TEXT
);
CREATE TABLE IF NOT EXISTS labels (
    label_id INTEGER PRIMARY KEY,
    name TEXT,
    raw TEXT
);
CREATE TABLE IF NOT EXISTS release_artists (
    release_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    artist_id INTEGER NOT NULL,
    anv TEXT,
    join_text TEXT,
    role TEXT,
    extra INTEGER NOT NULL DEFAULT 0, -- 1 for extraartists (credits) of a hydrated release
    PRIMARY KEY (release_id, extra, position)
);
CREATE TABLE IF NOT EXISTS release_labels (
    release_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    label_id INTEGER NOT NULL,
    catno TEXT,
    PRIMARY KEY (release_id, position)
);
CREATE TABLE IF NOT EXISTS tracks (
    release_id INTEGER NOT NULL,
    position INTEGER NOT NULL,       -- order in the tracklist
    track_position TEXT,             -- the printed position: A1, 2, …
    title TEXT,
    duration TEXT,
    raw TEXT,
    PRIMARY KEY (release_id, position)
);
CREATE TABLE IF NOT EXISTS masters (
    master_id INTEGER PRIMARY KEY,
    title TEXT,
    year INTEGER,
    main_release INTEGER,
    lowest_price REAL,
    num_for_sale INTEGER,
    raw TEXT,
    hydrated_at REAL
);

CREATE TABLE IF NOT EXISTS collection_items (
    instance_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    release_id INTEGER NOT NULL,
    folder_id INTEGER,
    rating INTEGER,
    date_added TEXT,
    added_ts REAL,                   -- date_added as epoch seconds (offsets differ)
    raw TEXT NOT NULL,
    seen_walk INTEGER,
    synced_run INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS collection_items_added ON collection_items (username, added_ts);
CREATE INDEX IF NOT EXISTS collection_items_release ON collection_items (release_id);
CREATE TABLE IF NOT EXISTS collection_notes (
    instance_id INTEGER NOT NULL,
    field_id INTEGER NOT NULL,
    value TEXT,
    PRIMARY KEY (instance_id, field_id)
);
CREATE TABLE IF NOT EXISTS wants (
    username TEXT NOT NULL,
    release_id INTEGER NOT NULL,
    rating INTEGER,
    notes TEXT,
    date_added TEXT,
    added_ts REAL,
    raw TEXT NOT NULL,
    seen_walk INTEGER,
    synced_run INTEGER NOT NULL,
    PRIMARY KEY (username, release_id)
);
CREATE INDEX IF NOT EXISTS wants_added ON wants (username, added_ts);
CREATE TABLE IF NOT EXISTS listings (
    listing_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    release_id INTEGER,
    status TEXT,
    condition TEXT,
    sleeve_condition TEXT,
    price REAL,
    currency TEXT,
    posted TEXT,
    added_ts REAL,
    raw TEXT NOT NULL,
    seen_walk INTEGER,
    synced_run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    status TEXT,
    created TEXT,
    added_ts REAL,
    total REAL,
    currency TEXT,
    buyer TEXT,
    raw TEXT NOT NULL,
    seen_walk INTEGER,
    synced_run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS order_items (
    order_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    item_id INTEGER,                 -- the listing sold
    release_id INTEGER,
    price REAL,
    currency TEXT,
    raw TEXT NOT NULL,
    PRIMARY KEY (order_id, position)
);
CREATE TABLE IF NOT EXISTS lists (
    list_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    name TEXT,
    public INTEGER,
    date_changed TEXT,
    added_ts REAL,
    raw TEXT NOT NULL,
    items_changed TEXT,              -- date_changed when the items below were fetched
    seen_walk INTEGER,
    synced_run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS list_items (
    list_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    type TEXT,                       -- release, master, artist, label
    item_id INTEGER,
    comment TEXT,
    raw TEXT NOT NULL,
    PRIMARY KEY (list_id, position)
);

CREATE TABLE IF NOT EXISTS marketplace_stats (
    release_id INTEGER PRIMARY KEY,
    lowest_price REAL,
    currency TEXT,
    num_for_sale INTEGER,
    blocked_from_sale INTEGER,
    raw TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS price_snapshots (
    run_id INTEGER NOT NULL,
    release_id INTEGER NOT NULL,
    taken_at TEXT NOT NULL,
    lowest_price REAL,
    currency TEXT,
    num_for_sale INTEGER,
    suggestions TEXT,                -- JSON: condition -> {currency, value}, for a seller
    PRIMARY KEY (run_id, release_id)
);
CREATE TABLE IF NOT EXISTS collection_values (
    run_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    minimum TEXT,
    median TEXT,
    maximum TEXT,
    PRIMARY KEY (run_id, username)
);
"""


def default_path() -> Path:
    """`$XDG_DATA_HOME/musicagent/mirror.db`, else `~/.local/share/musicagent/mirror.db`."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "musicagent" / DEFAULT_FILE_NAME


def _create_private(path: Path) -> None:
    """Create the file 0600 whatever the umask, or leave an existing file as it is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def open_database(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (creating when missing) the mirror database at `path`, schema included.

    The folder is created `0700` when its parent exists; the file and its WAL companions are
    `0600`.

    Raises:
        LocalIOError: the file cannot be created or opened, or it is a mirror of another
            schema version.
    """
    target = Path(path).expanduser()
    try:
        if not target.parent.exists() and target.parent.parent.is_dir():
            target.parent.mkdir(mode=0o700)
        if target.is_symlink():
            raise LocalIOError(
                f"refusing the mirror database {str(target)!r}: a symbolic link", path=target
            )
        _create_private(target)
        old_umask = os.umask(0o077)  # the -wal and -shm files SQLite creates beside it
        try:
            connection = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            os.umask(old_umask)
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=10000")
        connection.executescript(_TABLES)
    except sqlite3.Error as exc:
        raise LocalIOError(
            f"cannot open the mirror database {str(target)!r}: {exc}", path=target
        ) from exc
    except OSError as exc:
        raise LocalIOError(
            f"cannot open the mirror database {str(target)!r}: {exc.strerror or exc}",
            path=target,
        ) from exc
    _check_version(connection, target)
    return connection


def _check_version(connection: sqlite3.Connection, target: Path) -> None:
    row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        connection.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        return
    if row[0] != str(SCHEMA_VERSION):
        connection.close()
        raise LocalIOError(
            f"the mirror database {str(target)!r} has schema version {row[0]}, this musicagent "
            f"writes version {SCHEMA_VERSION}: sync into a new file (--db)",
            path=target,
        )


__all__ = ["DEFAULT_FILE_NAME", "SCHEMA_VERSION", "default_path", "open_database"]
