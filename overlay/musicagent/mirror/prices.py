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
from dataclasses import dataclass
from typing import Any

from musicagent.client import Discogs
from musicagent.errors import AuthenticationError, ForbiddenError, ResourceNotFoundError
from musicagent.mirror.hydrate import ACCOUNT_RELEASES, Hydrator
from musicagent.mirror.store import Store

Progress = Callable[[str, int, int | None], None]


@dataclass
class PriceSnapshot:
    """Takes one run's price snapshot for one user.

    Attributes:
        hydrator: this run's hydrator; statistics it already fetched are not asked for again.
    """

    client: Discogs
    store: Store
    run_id: int
    hydrator: Hydrator
    on_entity: Callable[[], None] = lambda: None
    on_progress: Progress | None = None

    def _body(self, call: Callable[[int], Any], release_id: int) -> Mapping[str, Any] | None:
        try:
            result: Mapping[str, Any] = call(release_id).to_dict()
        except (ResourceNotFoundError, ForbiddenError):
            return None
        return result

    def take(self, username: str) -> int:
        """Snapshot every release of the user's lists; returns how many were taken."""
        ids = [
            int(row[0])
            for row in self.store.db.execute(
                f"SELECT release_id FROM ({ACCOUNT_RELEASES}) WHERE release_id IS NOT NULL "
                "ORDER BY release_id",
                {"user": username},
            )
        ]
        listed = {
            int(row[0])
            for row in self.store.db.execute(
                "SELECT DISTINCT release_id FROM listings WHERE username = ? AND "
                "release_id IS NOT NULL",
                (username,),
            )
        }
        marketplace = self.client.marketplace
        for done, release_id in enumerate(ids, start=1):
            if release_id in self.hydrator.stats_bodies:
                stats = self.hydrator.stats_bodies[release_id]
            else:
                stats = self._body(marketplace.get_release_marketplace_stats, release_id)
            suggestions = (
                self._body(marketplace.get_price_suggestions, release_id)
                if release_id in listed
                else None
            )
            with self.store.transaction():
                if stats is not None and release_id not in self.hydrator.stats_bodies:
                    self.store.marketplace_stats(release_id, stats, time.time())
                self.store.price_snapshot(self.run_id, release_id, stats, suggestions)
                self.on_entity()
            if self.on_progress is not None:
                self.on_progress("prices", done, len(ids))
        self._collection_value(username)
        return len(ids)

    def _collection_value(self, username: str) -> None:
        has_collection = self.store.db.execute(
            "SELECT 1 FROM collection_items WHERE username = ? LIMIT 1", (username,)
        ).fetchone()
        if has_collection is None:
            return
        try:
            value = self.client.collection.get_collection_value(username).to_dict()
        except (AuthenticationError, ResourceNotFoundError, ForbiddenError):
            return  # only the owner may read it
        with self.store.transaction():
            self.store.collection_value(self.run_id, username, value)
            self.on_entity()


__all__ = ["PriceSnapshot"]
