"""Writes into the mirror database: runs, walk progress, and one writer per kind of entity.

Every writer takes one item as Discogs sent it (a dict), stores the whole body in `raw` and
the fields worth querying in columns, and says whether the row changed, so a run can count the
rows it changed. Callers wrap each page in `Store.transaction()`: a page is written whole or
not at all.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def now_text() -> str:
    """The current time, UTC, ISO 8601 to the second."""
    return datetime.now(tz=UTC).replace(microsecond=0).isoformat()


def epoch(value: object) -> float | None:
    """A Discogs timestamp (`2024-06-01T05:00:00-07:00`) as epoch seconds, None when absent or
    unreadable. Discogs writes each time with its own offset, so text order is not time order."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def as_int(value: object) -> int | None:
    """An id as an integer (Discogs sends some as strings), None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_float(value: object) -> float | None:
    """A number, None when absent (prices come as numbers or strings)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def dumps(value: object) -> str:
    """JSON as stored in `raw` columns: compact, keys in the order Discogs sent them."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_or_none(value: object) -> str | None:
    return None if value is None else dumps(value)


@dataclass(frozen=True)
class Walk:
    """A list walk under way: started by run `walk_id`, next page to fetch, page count."""

    walk_id: int
    next_page: int
    pages: int | None


class Store:
    """The mirror database, with the writes a sync makes."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection
        self.changed = 0
        """Rows changed through this store (inserted, updated with other content, deleted)."""

    # --- transactions ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work (a page, a hydrated entity, a sweep)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- runs ----------------------------------------------------------------------------------

    def start_run(
        self, username: str, kinds: Sequence[str], hydrate: Sequence[str], prices: bool
    ) -> int:
        """Record a run as running; a run left `running` by a killed process becomes
        `interrupted`."""
        with self.transaction():
            self.db.execute(
                "UPDATE sync_runs SET status = 'interrupted' WHERE status = 'running' "
                "AND username = ?",
                (username,),
            )
            cursor = self.db.execute(
                "INSERT INTO sync_runs (username, started_at, status, kinds, hydrate, prices) "
                "VALUES (?, ?, 'running', ?, ?, ?)",
                (username, now_text(), ",".join(kinds), ",".join(hydrate), int(prices)),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(
        self, run_id: int, status: str, *, requests: int, cache_hits: int, error: str | None
    ) -> None:
        """Record how a run ended and what it cost."""
        with self.transaction():
            self.db.execute(
                "UPDATE sync_runs SET finished_at = ?, status = ?, requests = ?, cache_hits = ?, "
                "changed_rows = ?, error = ? WHERE run_id = ?",
                (now_text(), status, requests, cache_hits, self.changed, error, run_id),
            )

    def progress_run(self, run_id: int, *, requests: int, cache_hits: int) -> None:
        """Keep the run's counters current (inside the caller's page transaction), so a killed
        run's row still says what it spent."""
        self.db.execute(
            "UPDATE sync_runs SET requests = ?, cache_hits = ?, changed_rows = ? WHERE run_id = ?",
            (requests, cache_hits, self.changed, run_id),
        )

    # --- walks and counts --------------------------------------------------------------------

    def walk(self, kind: str, username: str) -> Walk | None:
        """The walk of a list under way, if a run left one."""
        row = self.db.execute(
            "SELECT walk_id, next_page, pages FROM walks WHERE kind = ? AND username = ?",
            (kind, username),
        ).fetchone()
        return None if row is None else Walk(row[0], row[1], row[2])

    def save_walk(self, kind: str, username: str, walk: Walk) -> None:
        """Where a walk stands (inside the page's transaction)."""
        self.db.execute(
            "INSERT INTO walks (kind, username, walk_id, next_page, pages) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, username) DO UPDATE SET walk_id = excluded.walk_id, "
            "next_page = excluded.next_page, pages = excluded.pages",
            (kind, username, walk.walk_id, walk.next_page, walk.pages),
        )

    def end_walk(self, kind: str, username: str) -> None:
        """The walk is complete (inside the sweep's transaction)."""
        self.db.execute("DELETE FROM walks WHERE kind = ? AND username = ?", (kind, username))

    def list_count(self, kind: str, username: str) -> int | None:
        """How many items Discogs counted at the last complete sync of a list, if any."""
        row = self.db.execute(
            "SELECT items FROM list_counts WHERE kind = ? AND username = ?", (kind, username)
        ).fetchone()
        return None if row is None else int(row[0])

    def save_list_count(self, kind: str, username: str, items: int, run_id: int) -> None:
        """The list is complete at `items` items (inside the sweep's transaction)."""
        self.db.execute(
            "INSERT INTO list_counts (kind, username, items, synced_run) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, username) DO UPDATE SET items = excluded.items, "
            "synced_run = excluded.synced_run",
            (kind, username, items, run_id),
        )

    # --- generic row writing -------------------------------------------------------------------

    def upsert(
        self,
        table: str,
        key: Mapping[str, Any],
        columns: Mapping[str, Any],
        *,
        walk_id: int | None = None,
        run_id: int | None = None,
        touch: tuple[str, ...] = (),
    ) -> bool:
        """Insert or update one row; True when its content changed.

        `raw` decides whether the row changed: a row read again with the same body only gets
        its `seen_walk` mark (the walk that saw it) and the `touch` columns (when it was
        fetched), so unchanged rows cost no rewrite and count as unchanged.
        """
        where = " AND ".join(f"{name} = ?" for name in key)
        existing = self.db.execute(
            f"SELECT raw FROM {table} WHERE {where}", tuple(key.values())
        ).fetchone()
        if existing is not None and existing[0] == columns.get("raw"):
            marks = {name: columns[name] for name in touch}
            if walk_id is not None:
                marks["seen_walk"] = walk_id
            if marks:
                sets = ", ".join(f"{name} = ?" for name in marks)
                self.db.execute(
                    f"UPDATE {table} SET {sets} WHERE {where}", (*marks.values(), *key.values())
                )
            return False
        values = {**key, **columns}
        if walk_id is not None:
            values["seen_walk"] = walk_id
        if run_id is not None:
            values["synced_run"] = run_id
        names = ", ".join(values)
        placeholders = ", ".join("?" for _ in values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values if name not in key)
        self.db.execute(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
            tuple(values.values()),
        )
        self.changed += 1
        return True

    def delete(self, table: str, key: Mapping[str, Any]) -> None:
        """Delete one row (an item that left its list)."""
        where = " AND ".join(f"{name} = ?" for name in key)
        cursor = self.db.execute(f"DELETE FROM {table} WHERE {where}", tuple(key.values()))
        self.changed += cursor.rowcount

    def replace_children(
        self, table: str, parent: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Replace the rows of a join table that belong to one parent (a release's artists,
        an order's items)."""
        where = " AND ".join(f"{name} = ?" for name in parent)
        self.db.execute(f"DELETE FROM {table} WHERE {where}", tuple(parent.values()))
        for row in rows:
            values = {**parent, **row}
            self.db.execute(
                f"INSERT OR REPLACE INTO {table} ({', '.join(values)}) "
                f"VALUES ({', '.join('?' for _ in values)})",
                tuple(values.values()),
            )

    # --- releases, artists, labels ---------------------------------------------------------

    def basic_release(self, basic: Mapping[str, Any]) -> int | None:
        """The release a list item names, from its `basic_information`: the columns a list
        page can fill, leaving a hydrated body in place."""
        release_id = as_int(basic.get("id"))
        if release_id is None:
            return None
        text = dumps(basic)
        row = self.db.execute(
            "SELECT basic, raw FROM releases WHERE release_id = ?", (release_id,)
        ).fetchone()
        if row is not None and row[0] == text:
            return release_id
        self.db.execute(
            "INSERT INTO releases (release_id, title, year, master_id, genres, styles, formats, "
            "basic) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (release_id) DO UPDATE SET "
            "basic = excluded.basic, title = coalesce(releases.title, excluded.title), "
            "year = coalesce(releases.year, excluded.year), "
            "master_id = coalesce(releases.master_id, excluded.master_id), "
            "genres = coalesce(releases.genres, excluded.genres), "
            "styles = coalesce(releases.styles, excluded.styles), "
            "formats = coalesce(releases.formats, excluded.formats)",
            (
                release_id,
                basic.get("title"),
                as_int(basic.get("year")),
                as_int(basic.get("master_id")),
                _json_or_none(basic.get("genres")),
                _json_or_none(basic.get("styles")),
                _json_or_none(basic.get("formats")),
                text,
            ),
        )
        self.changed += 1
        if row is None or row[1] is None:  # a hydrated body's credits stay
            self._credits(release_id, basic, extra=False)
        return release_id

    def full_release(self, body: Mapping[str, Any], fetched_at: float) -> None:
        """A release as `GET /releases/{id}` returns it: every column, its credits, labels and
        tracklist."""
        release_id = as_int(body.get("id"))
        if release_id is None:
            return
        community = body.get("community") or {}
        rating = community.get("rating") or {}
        barcodes = [
            i.get("value")
            for i in body.get("identifiers") or []
            if isinstance(i, Mapping) and str(i.get("type", "")).lower() == "barcode"
        ]
        text = dumps(body)
        row = self.db.execute(
            "SELECT raw FROM releases WHERE release_id = ?", (release_id,)
        ).fetchone()
        self.db.execute(
            "INSERT INTO releases (release_id, title, year, master_id, country, released, genres, "
            "styles, formats, barcodes, community_have, community_want, community_rating, "
            "community_votes, lowest_price, num_for_sale, raw, hydrated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (release_id) DO UPDATE SET title = excluded.title, "
            "year = excluded.year, master_id = excluded.master_id, country = excluded.country, "
            "released = excluded.released, genres = excluded.genres, styles = excluded.styles, "
            "formats = excluded.formats, barcodes = excluded.barcodes, "
            "community_have = excluded.community_have, community_want = excluded.community_want, "
            "community_rating = excluded.community_rating, "
            "community_votes = excluded.community_votes, lowest_price = excluded.lowest_price, "
            "num_for_sale = excluded.num_for_sale, raw = excluded.raw, "
            "hydrated_at = excluded.hydrated_at",
            (
                release_id,
                body.get("title"),
                as_int(body.get("year")),
                as_int(body.get("master_id")),
                body.get("country"),
                body.get("released"),
                _json_or_none(body.get("genres")),
                _json_or_none(body.get("styles")),
                _json_or_none(body.get("formats")),
                dumps(barcodes),
                as_int(community.get("have")),
                as_int(community.get("want")),
                as_float(rating.get("average")) if isinstance(rating, Mapping) else None,
                as_int(rating.get("count")) if isinstance(rating, Mapping) else None,
                as_float(body.get("lowest_price")),
                as_int(body.get("num_for_sale")),
                text,
                fetched_at,
            ),
        )
        if row is None or row[0] != text:
            self.changed += 1
        self._credits(release_id, body, extra=False)
        self._credits(release_id, {"artists": body.get("extraartists") or []}, extra=True)
        tracks = [
            {
                "position": n,
                "track_position": t.get("position"),
                "title": t.get("title"),
                "duration": t.get("duration"),
                "raw": dumps(t),
            }
            for n, t in enumerate(body.get("tracklist") or [])
            if isinstance(t, Mapping)
        ]
        self.replace_children("tracks", {"release_id": release_id}, tracks)

    def _credits(self, release_id: int, body: Mapping[str, Any], *, extra: bool) -> None:
        """A release's artists (or extra artists) and labels, with the artist and label rows."""
        artists = []
        for n, artist in enumerate(body.get("artists") or []):
            artist_id = as_int(artist.get("id")) if isinstance(artist, Mapping) else None
            if artist_id is None:
                continue
            self._named("artists", "artist_id", artist_id, artist)
            artists.append(
                {
                    "position": n,
                    "artist_id": artist_id,
                    "anv": artist.get("anv"),
                    "join_text": artist.get("join"),
                    "role": artist.get("role"),
                }
            )
        self.replace_children(
            "release_artists", {"release_id": release_id, "extra": int(extra)}, artists
        )
        if extra:
            return
        labels = []
        for n, label in enumerate(body.get("labels") or []):
            label_id = as_int(label.get("id")) if isinstance(label, Mapping) else None
            if label_id is None:
                continue
            self._named("labels", "label_id", label_id, label)
            labels.append({"position": n, "label_id": label_id, "catno": label.get("catno")})
        self.replace_children("release_labels", {"release_id": release_id}, labels)

    def _named(self, table: str, key: str, entity_id: int, body: Mapping[str, Any]) -> None:
        # Credits name an artist or label with a few fields; the first body seen is kept.
        self.db.execute(
            f"INSERT INTO {table} ({key}, name, raw) VALUES (?, ?, ?) ON CONFLICT ({key}) "
            "DO NOTHING",
            (entity_id, body.get("name"), dumps(body)),
        )

    def full_master(self, body: Mapping[str, Any], fetched_at: float) -> None:
        """A master as `GET /masters/{id}` returns it."""
        master_id = as_int(body.get("id"))
        if master_id is None:
            return
        self.upsert(
            "masters",
            {"master_id": master_id},
            {
                "title": body.get("title"),
                "year": as_int(body.get("year")),
                "main_release": as_int(body.get("main_release")),
                "lowest_price": as_float(body.get("lowest_price")),
                "num_for_sale": as_int(body.get("num_for_sale")),
                "raw": dumps(body),
                "hydrated_at": fetched_at,
            },
            touch=("hydrated_at",),
        )

    # --- marketplace stats and prices ----------------------------------------------------------

    def marketplace_stats(
        self, release_id: int, body: Mapping[str, Any], fetched_at: float
    ) -> None:
        """The current marketplace statistics of a release."""
        price = body.get("lowest_price") or {}
        self.upsert(
            "marketplace_stats",
            {"release_id": release_id},
            {
                "lowest_price": as_float(price.get("value"))
                if isinstance(price, Mapping)
                else None,
                "currency": price.get("currency") if isinstance(price, Mapping) else None,
                "num_for_sale": as_int(body.get("num_for_sale")),
                "blocked_from_sale": int(bool(body.get("blocked_from_sale"))),
                "raw": dumps(body),
                "fetched_at": fetched_at,
            },
            touch=("fetched_at",),
        )

    def price_snapshot(
        self,
        run_id: int,
        release_id: int,
        stats: Mapping[str, Any] | None,
        suggestions: Mapping[str, Any] | None,
    ) -> None:
        """One release's prices as this run saw them."""
        price = (stats or {}).get("lowest_price") or {}
        self.db.execute(
            "INSERT OR REPLACE INTO price_snapshots (run_id, release_id, taken_at, lowest_price, "
            "currency, num_for_sale, suggestions) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                release_id,
                now_text(),
                as_float(price.get("value")) if isinstance(price, Mapping) else None,
                price.get("currency") if isinstance(price, Mapping) else None,
                as_int((stats or {}).get("num_for_sale")),
                _json_or_none(suggestions),
            ),
        )
        self.changed += 1

    def collection_value(self, run_id: int, username: str, body: Mapping[str, Any]) -> None:
        """The collection value endpoint's answer for this run."""
        self.db.execute(
            "INSERT OR REPLACE INTO collection_values (run_id, username, taken_at, minimum, "
            "median, maximum) VALUES (?, ?, ?, ?, ?, ?)",
            (
                run_id,
                username,
                now_text(),
                body.get("minimum"),
                body.get("median"),
                body.get("maximum"),
            ),
        )
        self.changed += 1


def stale(fetched_at: float | None, lifetime: float | None, now: float | None = None) -> bool:
    """Whether an entity fetched at `fetched_at` is due again: never fetched, or older than
    its cache lifetime (`None`: the policy keeps nothing, so always due)."""
    if fetched_at is None or lifetime is None:
        return True
    return (now if now is not None else time.time()) - fetched_at >= lifetime


__all__ = ["Store", "Walk", "as_float", "as_int", "dumps", "epoch", "now_text", "stale"]
