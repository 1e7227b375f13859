"""Price snapshots (`--prices`): what each release of the account is offered at, per run.

Each run stores, per distinct release of the collection, wantlist and inventory, the
marketplace statistics (lowest price, copies for sale) and, for a release the account has
listed, Discogs' price suggestions per condition; and once, the collection value endpoint's
minimum, median and maximum. Rows are keyed by run, so they accumulate: value over time is a
query over `price_snapshots` joined to `sync_runs`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from musicagent.errors import AuthenticationError, ForbiddenError, ResourceNotFoundError
from musicagent.mirror.flow import Flow, Get, GetEach
from musicagent.mirror.hydrate import ACCOUNT_RELEASES, Hydrator
from musicagent.mirror.store import Store

Progress = Callable[[str, int, int | None], None]


@dataclass
class PriceSnapshot:
    """Takes one run's price snapshot for one user.

    Attributes:
        hydrator: this run's hydrator; statistics it already fetched are not asked for again.
    """

    store: Store
    run_id: int
    hydrator: Hydrator
    on_entity: Callable[[], None] = lambda: None
    on_progress: Progress | None = None
    _suggestions: dict[int, Mapping[str, Any] | None] = field(default_factory=dict)

    def take(self, username: str) -> Flow[int]:
        """Snapshot every release of the user's lists; returns how many were taken.

        Price suggestions (for the releases the account lists) are fetched first, then the
        statistics the hydrator did not already fetch, each release's snapshot written in one
        transaction as its statistics land.
        """
        ids = [
            int(row[0])
            for row in self.store.db.execute(
                f"SELECT release_id FROM ({ACCOUNT_RELEASES}) WHERE release_id IS NOT NULL "
                "ORDER BY release_id",
                {"user": username},
            )
        ]
        listed = [
            int(row[0])
            for row in self.store.db.execute(
                "SELECT DISTINCT release_id FROM listings WHERE username = ? AND "
                "release_id IS NOT NULL ORDER BY release_id",
                (username,),
            )
        ]
        # Every listed release is one of `ids` (the account's releases include its listings).
        yield GetEach(
            [(i, Get("get_price_suggestions", {"release_id": i})) for i in listed],
            self._suggestions.__setitem__,
        )
        done = 0

        def snapshot(release_id: int, stats: Mapping[str, Any] | None, fetched: bool) -> None:
            nonlocal done
            with self.store.transaction():
                if stats is not None and fetched:
                    self.store.marketplace_stats(release_id, stats, time.time())
                suggestions = self._suggestions.get(release_id)
                self.store.price_snapshot(self.run_id, release_id, stats, suggestions)
                self.on_entity()
            done += 1
            if self.on_progress is not None:
                self.on_progress("prices", done, len(ids))

        known = self.hydrator.stats_bodies
        for release_id in ids:
            if release_id in known:
                snapshot(release_id, known[release_id], False)
        yield GetEach(
            [
                (i, Get("get_release_marketplace_stats", {"release_id": i}))
                for i in ids
                if i not in known
            ],
            lambda release_id, stats: snapshot(release_id, stats, True),
        )
        yield from self._collection_value(username)
        return len(ids)

    def _collection_value(self, username: str) -> Flow[None]:
        has_collection = self.store.db.execute(
            "SELECT 1 FROM collection_items WHERE username = ? LIMIT 1", (username,)
        ).fetchone()
        if has_collection is None:
            return
        try:
            value = yield Get("get_collection_value", {"username": username})
        except (AuthenticationError, ResourceNotFoundError, ForbiddenError):
            return  # only the owner may read it
        with self.store.transaction():
            self.store.collection_value(self.run_id, username, value)
            self.on_entity()


__all__ = ["PriceSnapshot"]
