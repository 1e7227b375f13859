"""Hydration: the full body of each distinct release, master or marketplace statistics.

A list page carries only `basic_information`; tracklists, credits, barcodes, catalogue numbers
and community ratings need `GET /releases/{id}`. Each distinct entity the account's lists name
is fetched once, through the client (so the cache answers what it holds and the shared limiter
paces the rest), and again only when the stored copy is older than its cache lifetime. Each
entity is written in its own transaction: a killed hydration keeps what it fetched, and the
next run asks only for the rest. Each stage yields its calls as one `GetEach`: the sync shell
sends them in turn, the async one several at a time (`musicagent.mirror.flow`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from musicagent.cache import CachePolicy
from musicagent.mirror.flow import Flow, Get, GetEach
from musicagent.mirror.store import Store

HYDRATE_KINDS = ("releases", "masters", "stats")
"""What `--hydrate` takes."""

#: The releases an account's lists name (collection, wantlist, inventory) — the ones worth
#: hydrating.
ACCOUNT_RELEASES = (
    "SELECT release_id FROM collection_items WHERE username = :user "
    "UNION SELECT release_id FROM wants WHERE username = :user "
    "UNION SELECT release_id FROM listings WHERE username = :user"
)

Progress = Callable[[str, int, int | None], None]


@dataclass
class Hydrator:
    """Fetches what `--hydrate` asks for, for one user's lists.

    Attributes:
        store: the mirror database.
        policy: cache lifetimes; a stored body older than its kind's lifetime is fetched again.
        on_entity: called inside each entity's transaction (the run records its counters).
        on_progress: `(stage, done, total)` after each entity.
    """

    store: Store
    policy: CachePolicy = field(default_factory=CachePolicy)
    on_entity: Callable[[], None] = lambda: None
    on_progress: Progress | None = None
    fetched: dict[str, int] = field(default_factory=dict)
    stats_bodies: dict[int, Mapping[str, Any] | None] = field(default_factory=dict)
    """Marketplace statistics fetched in this run, by release (price snapshots reuse them)."""

    def _due(self, sql: str, username: str, lifetime: float | None) -> list[int]:
        moment = time.time() - lifetime if lifetime else None
        rows = self.store.db.execute(sql, {"user": username, "before": moment}).fetchall()
        return [int(row[0]) for row in rows if row[0] is not None]

    def _each(
        self,
        stage: str,
        ids: list[int],
        operation_id: str,
        argument: str,
        keep: Callable[[int, Any, float], None],
    ) -> Flow[None]:
        total = len(ids)

        def kept(entity_id: int, body: Mapping[str, Any] | None) -> None:
            # body None: gone from Discogs, or not visible to this credential.
            with self.store.transaction():
                keep(entity_id, body, time.time())
                self.on_entity()
            done = self.fetched[stage] = self.fetched.get(stage, 0) + 1
            if self.on_progress is not None:
                self.on_progress(stage, done, total)

        calls = [(i, Get(operation_id, {argument: i})) for i in ids]
        yield GetEach(calls, kept)

    def stage(self, name: str, username: str) -> Flow[None]:
        """The hydration stage `name` (one of `HYDRATE_KINDS`) for `username`."""
        flow: Flow[None] = getattr(self, name)(username)
        return flow

    def releases(self, username: str) -> Flow[None]:
        """Every release of the user's lists not hydrated within the database lifetime."""
        ids = self._due(
            f"SELECT a.release_id FROM ({ACCOUNT_RELEASES}) a "
            "LEFT JOIN releases r ON r.release_id = a.release_id "
            "WHERE r.hydrated_at IS NULL OR :before IS NULL OR r.hydrated_at < :before "
            "ORDER BY a.release_id",
            username,
            self.policy.database,
        )

        def keep(release_id: int, body: Any, now: float) -> None:
            if body is None:
                self.store.db.execute(
                    "UPDATE releases SET hydrated_at = ? WHERE release_id = ?", (now, release_id)
                )
            else:
                self.store.full_release(body, now)

        yield from self._each("releases", ids, "get_release", "release_id", keep)

    def masters(self, username: str) -> Flow[None]:
        """Every master of the user's releases not hydrated within the database lifetime."""
        ids = self._due(
            "SELECT DISTINCT r.master_id FROM releases r "
            f"JOIN ({ACCOUNT_RELEASES}) a ON a.release_id = r.release_id "
            "LEFT JOIN masters m ON m.master_id = r.master_id "
            "WHERE r.master_id > 0 AND (m.hydrated_at IS NULL OR :before IS NULL "
            "OR m.hydrated_at < :before) ORDER BY r.master_id",
            username,
            self.policy.database,
        )

        def keep(master_id: int, body: Any, now: float) -> None:
            if body is None:
                self.store.db.execute(
                    "INSERT INTO masters (master_id, hydrated_at) VALUES (?, ?) ON CONFLICT "
                    "(master_id) DO UPDATE SET hydrated_at = excluded.hydrated_at",
                    (master_id, now),
                )
            else:
                self.store.full_master(body, now)

        yield from self._each("masters", ids, "get_master", "master_id", keep)

    def stats(self, username: str) -> Flow[None]:
        """Marketplace statistics of every release of the user's lists, within the
        marketplace lifetime."""
        ids = self._due(
            f"SELECT a.release_id FROM ({ACCOUNT_RELEASES}) a "
            "LEFT JOIN marketplace_stats s ON s.release_id = a.release_id "
            "WHERE s.fetched_at IS NULL OR :before IS NULL OR s.fetched_at < :before "
            "ORDER BY a.release_id",
            username,
            self.policy.marketplace,
        )

        def keep(release_id: int, body: Any, now: float) -> None:
            self.stats_bodies[release_id] = body
            if body is not None:
                self.store.marketplace_stats(release_id, body, now)

        yield from self._each("stats", ids, "get_release_marketplace_stats", "release_id", keep)


__all__ = ["ACCOUNT_RELEASES", "HYDRATE_KINDS", "Hydrator"]
