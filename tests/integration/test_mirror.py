"""`musicagent.mirror` against the sandbox: full, incremental and resumed syncs, hydration
through the cache, price snapshots, and the database a sync leaves behind."""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from discogs_sandbox import Sandbox
from musicagent import CachePolicy, CacheStore
from musicagent.errors import InvalidParameterError
from musicagent.mirror import Mirror
from musicagent.mirror.fetch import fresh_page
from musicagent.mirror.kinds import ListKind

USER = "sandbox"
FAST = {"rate_limit": 100_000, "rate_window": 1}


def _table(path: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        return sorted(connection.execute(sql).fetchall(), key=repr)
    finally:
        connection.close()


def _lists(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What a sync of the collection and wantlist must leave, whatever the road to it."""
    return {
        "collection": _table(path, "SELECT instance_id, release_id, raw FROM collection_items"),
        "wants": _table(path, "SELECT username, release_id, raw FROM wants"),
        "notes": _table(path, "SELECT * FROM collection_notes"),
    }


_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _close_what_tests_open() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(sandbox: Sandbox, **options: Any) -> Any:
    """A sandbox client closed after the test."""
    client = sandbox.client(**options)
    _OPEN.append(client)
    return client


def _mirror(client: Any, path: Path, **options: Any) -> Mirror:
    """A mirror closed after the test (before its client)."""
    mirror = Mirror(client, path, **options)
    _OPEN.append(mirror)
    return mirror


def _fresh(sandbox: Sandbox, path: Path, **options: Any) -> Mirror:
    mirror = _mirror(_client(sandbox), path)
    mirror.sync(USER, **options)
    return mirror


def _requests(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["requests"])


@pytest.mark.discogs_sandbox(collection_size=2000, wantlist_size=250, **FAST)
def test_full_sync_with_hydration_of_a_2000_item_collection(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "mirror.db"
    before = _requests(discogs_sandbox)
    with _mirror(_client(discogs_sandbox), path) as mirror:
        report = mirror.sync(USER, hydrate="releases")
        distinct = mirror.query(
            "SELECT count(*) AS n FROM (SELECT release_id FROM collection_items "
            "UNION SELECT release_id FROM wants)"
        )[0]["n"]
        # ⌈N/100⌉ pages per list plus one request per distinct release, and no more.
        assert report.requests == math.ceil(2000 / 100) + math.ceil(250 / 100) + distinct
        assert _requests(discogs_sandbox) - before == report.requests
        assert discogs_sandbox.stats()["status_429"] == 0
        assert report.lists["collection"].mode == "full"
        assert len(mirror.collection(USER)) == 2000
        assert len(mirror.wants(USER)) == 250
        hydrated = mirror.query(
            "SELECT count(*) AS n FROM releases WHERE raw IS NOT NULL AND hydrated_at IS NOT NULL"
        )[0]["n"]
        assert hydrated == distinct
        # Full bodies: tracklists and credits are queryable; the raw body is kept whole.
        assert mirror.query("SELECT count(*) AS n FROM tracks")[0]["n"] > 0
        row = mirror.query("SELECT raw FROM collection_items LIMIT 1")[0]
        assert json.loads(row["raw"])["basic_information"]["id"]
        run = mirror.runs(USER)[0]
        assert run["status"] == "done"
        assert run["requests"] == report.requests
        assert run["changed_rows"] == report.changed_rows > 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for companion in (path.with_name(path.name + "-wal"),):
        if companion.exists():
            assert stat.S_IMODE(os.stat(companion).st_mode) == 0o600


@pytest.mark.discogs_sandbox(collection_size=3000, wantlist_size=420, **FAST)
def test_second_sync_sends_only_what_the_change_needs(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    client = _client(discogs_sandbox)
    mirror = _mirror(client, tmp_path / "mirror.db")
    mirror.sync(USER)

    # Unchanged: the head page and one stored page re-read in turn, per list.
    unchanged = mirror.sync(USER)
    assert unchanged.requests == 4
    assert unchanged.changed_rows == 0
    assert unchanged.lists["collection"].reread is not None

    # Items added and removed, here and there in both lists.
    items = mirror.collection(USER)
    for victim in (items[3], items[1400], items[2901]):
        client.collection.delete_collection_instance(
            USER, victim["folder_id"], victim["release_id"], victim["instance_id"]
        )
    client.collection.add_to_collection_folder(USER, 1, 249504)
    client.collection.add_to_collection_folder(USER, 1, 1)
    wants = mirror.wants(USER)
    client.wantlist.delete_from_wantlist(USER, wants[250]["release_id"])
    client.wantlist.add_to_wantlist(USER, 249504)

    changed = mirror.sync(USER)
    collection = changed.lists["collection"]
    assert (collection.mode, collection.added, collection.removed) == ("incremental", 2, 3)
    assert (changed.lists["wantlist"].added, changed.lists["wantlist"].removed) == (1, 1)
    # Far fewer than the 30 + 5 pages of a whole walk: each list's head page and page re-read,
    # then a bisection that fetches about log2(pages) pages per removed item.
    assert changed.requests <= 4 + 3 * math.ceil(math.log2(30)) + math.ceil(math.log2(5))
    assert _lists(mirror.path) == _lists(_fresh(discogs_sandbox, tmp_path / "fresh.db").path)

    # And settled again: two requests per list.
    assert mirror.sync(USER).requests == 4


@pytest.mark.discogs_sandbox(collection_size=300, wantlist_size=10, inventory_size=30, **FAST)
def test_edits_in_place_are_seen_in_turn_or_at_once_with_full(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    client = _client(discogs_sandbox)
    mirror = _mirror(client, tmp_path / "mirror.db")
    mirror.sync(USER, only="collection,inventory")
    rating = "SELECT rating FROM collection_items WHERE instance_id = ?"

    def rerate(item: Mapping[str, Any]) -> int:
        new = 5 - item["rating"]
        client.collection.edit_collection_instance(
            USER, item["folder_id"], item["release_id"], item["instance_id"], rating=new
        )
        return new

    item = mirror.collection(USER)[150]  # on page 2 of 3
    rerated = rerate(item)
    listing = mirror.query("SELECT * FROM listings WHERE status = 'For Sale' LIMIT 1")[0]
    client.marketplace.edit_listing(
        listing["listing_id"],
        release_id=listing["release_id"],
        condition=listing["condition"],
        price=listing["price"] + 10,
    )

    # The inventory is always walked whole, so a repriced listing is seen at once ...
    report = mirror.sync(USER, only="collection,inventory")
    assert report.lists["inventory"].mode == "full"
    repriced = mirror.query(
        "SELECT price FROM listings WHERE listing_id = ?", (listing["listing_id"],)
    )
    assert repriced[0]["price"] == pytest.approx(listing["price"] + 10)
    # ... and a re-rating, which keeps the item's place and date, within pages - 1 incremental
    # runs, each reading the head page and one stored page again.
    runs = [report]
    while mirror.query(rating, (item["instance_id"],))[0]["rating"] != rerated:
        assert len(runs) < 2, "the re-rating was not seen within pages - 1 runs"
        runs.append(mirror.sync(USER, only="collection"))
    assert all(r.lists["collection"].mode == "incremental" for r in runs)
    assert all(r.lists["collection"].pages <= 2 for r in runs)
    assert sorted(r.lists["collection"].reread or 0 for r in runs)[-1] == 2

    # --full sees every edit at once.
    other = mirror.collection(USER)[40]
    rerate(other)
    assert mirror.sync(USER, only="collection", full=True).lists["collection"].mode == "full"
    assert mirror.query(rating, (other["instance_id"],))[0]["rating"] == 5 - other["rating"]
    fresh = _fresh(discogs_sandbox, tmp_path / "fresh.db", only="collection")
    assert _lists(mirror.path)["collection"] == _lists(fresh.path)["collection"]


class Killed(KeyboardInterrupt):
    """Stands for the process dying after a page was fetched and before it was written."""


def _killing_fetch(sandbox: Sandbox, after: int) -> Any:
    client = _client(sandbox)
    fetched = 0

    def fetch(kind: ListKind, user: str, page: int) -> Mapping[str, Any]:
        nonlocal fetched
        fetched += 1
        if fetched > after:
            raise Killed()
        return fresh_page(client, kind, user, page)

    return client, fetch


@pytest.mark.discogs_sandbox(collection_size=730, wantlist_size=260, **FAST)
def test_killed_at_random_pages_then_resumed_gives_the_same_database(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    reference = _lists(_fresh(discogs_sandbox, tmp_path / "fresh.db").path)
    pages = math.ceil(730 / 100) + math.ceil(260 / 100)
    for attempt, after in enumerate(sorted(random.Random(17).sample(range(1, pages), 4))):
        path = tmp_path / f"killed-{attempt}.db"
        client, fetch = _killing_fetch(discogs_sandbox, after)
        with pytest.raises(Killed), _mirror(client, path, fetch_page=fetch) as mirror:
            mirror.sync(USER)
        # Consistent after the kill: the run says so, and every page written is whole.
        run = _table(path, "SELECT status FROM sync_runs")
        assert run == [("interrupted",)]
        stored = len(_table(path, "SELECT instance_id FROM collection_items")) + len(
            _table(path, "SELECT release_id FROM wants")
        )
        assert stored % 100 == 0 or stored >= 730
        # The next run continues where the walk stopped: only the pages not yet written.
        with _mirror(_client(discogs_sandbox), path) as mirror:
            report = mirror.sync(USER)
        # (A collection walked whole before the kill is read incrementally: its head page and
        # one stored page again.)
        assert report.requests == pages - after + (2 if after >= 8 else 0)
        assert _lists(path) == reference


@pytest.mark.discogs_sandbox(collection_size=120, wantlist_size=30, **FAST)
def test_hydration_goes_through_the_cache_and_refetches_only_stale_entities(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    client = _client(discogs_sandbox, cache=CacheStore.memory())
    first = _mirror(client, tmp_path / "a.db").sync(USER, hydrate="releases,masters")
    assert first.hydrated["releases"] > 0 and first.hydrated["masters"] > 0
    # Within the lifetime, the same mirror asks for nothing it holds ...
    again = _mirror(client, tmp_path / "a.db").sync(USER, hydrate="releases,masters")
    assert again.hydrated == {}
    assert again.requests == 3  # incremental: the head pages, and the collection's page 2 again
    # ... and another mirror reading the same entities is served by the cache.
    other = _mirror(client, tmp_path / "b.db").sync(USER, hydrate="releases")
    assert other.requests == math.ceil(120 / 100) + 1  # the list pages, fetched fresh
    assert other.cache_hits == other.hydrated["releases"]
    # Older than its lifetime, an entity is fetched again.
    expired = _mirror(client, tmp_path / "a.db", policy=CachePolicy(database=0))
    assert expired.sync(USER, hydrate="releases").hydrated["releases"] == first.hydrated["releases"]


@pytest.mark.discogs_sandbox(collection_size=60, wantlist_size=40, inventory_size=15, **FAST)
def test_price_snapshots_accumulate_and_feed_the_reports(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    client = _client(discogs_sandbox)
    mirror = _mirror(client, tmp_path / "mirror.db")
    first = mirror.sync(USER, only="collection,wantlist,inventory", prices=True)
    second = mirror.sync(USER, only="collection,wantlist,inventory", prices=True)
    distinct = mirror.query(
        "SELECT count(*) AS n FROM (SELECT release_id FROM collection_items UNION SELECT "
        "release_id FROM wants UNION SELECT release_id FROM listings)"
    )[0]["n"]
    assert first.snapshots == second.snapshots == distinct
    per_run = mirror.query(
        "SELECT run_id, count(*) AS n FROM price_snapshots GROUP BY run_id ORDER BY run_id"
    )
    assert [(r["run_id"], r["n"]) for r in per_run] == [
        (first.run_id, distinct),
        (second.run_id, distinct),
    ]
    suggested = mirror.query(
        "SELECT count(*) AS n FROM price_snapshots WHERE suggestions IS NOT NULL"
    )[0]["n"]
    assert suggested > 0  # the seller's listed releases carry price suggestions

    value = mirror.value(USER)
    assert [row["run_id"] for row in value.history] == [first.run_id, second.run_id]
    assert value.history[-1]["median"] is not None
    assert value.history[-1]["lowest_total"] > 0
    assert value.change()["lowest_total"] is not None

    cheapest = mirror.query(
        "SELECT w.release_id, m.lowest_price FROM wants w JOIN marketplace_stats m "
        "USING (release_id) WHERE m.lowest_price IS NOT NULL ORDER BY m.lowest_price LIMIT 1"
    )[0]
    buyable = mirror.wants_buyable(USER, max_price=cheapest["lowest_price"])
    assert cheapest["release_id"] in [row["release_id"] for row in buyable]
    assert all(row["lowest_price"] <= cheapest["lowest_price"] for row in buyable)
    # A limit written in the notes wins: "max 0.01" makes nothing buyable.
    client.wantlist.edit_wantlist_release(USER, cheapest["release_id"], notes="max 0.01")
    mirror.sync(USER, only="wantlist", full=True)
    from_notes = mirror.wants_buyable(USER, from_notes=True)
    assert cheapest["release_id"] not in [row["release_id"] for row in from_notes]


def test_bad_choices_are_refused_before_any_request(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    mirror = _mirror(_client(discogs_sandbox), tmp_path / "mirror.db")
    before = _requests(discogs_sandbox)
    with pytest.raises(InvalidParameterError, match="only: favourites is not one of"):
        mirror.sync(USER, only="collection,favourites")
    with pytest.raises(InvalidParameterError, match="hydrate: artists is not one of"):
        mirror.sync(USER, hydrate="artists")
    assert _requests(discogs_sandbox) == before
    assert mirror.runs() == []


@pytest.mark.discogs_sandbox(collection_size=20, wantlist_size=5, **FAST)
def test_inventory_orders_and_lists_with_their_items(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    mirror = _mirror(_client(discogs_sandbox), tmp_path / "mirror.db")
    report = mirror.sync(USER, only="inventory,orders,lists")
    assert set(report.lists) == {"inventory", "orders", "lists"}
    assert mirror.query("SELECT count(*) AS n FROM orders")[0]["n"] == report.lists["orders"].listed
    assert mirror.query("SELECT count(*) AS n FROM order_items")[0]["n"] > 0
    assert mirror.query("SELECT count(*) AS n FROM list_items")[0]["n"] > 0
    # A list whose date_changed did not move is not fetched again.
    again = mirror.sync(USER, only="lists")
    assert again.requests == 1


def test_one_sync_per_database_at_a_time(discogs_sandbox: Sandbox, tmp_path: Path) -> None:
    from musicagent.errors import ExportLockedError
    from musicagent.export.lock import ExportLock

    mirror = _mirror(_client(discogs_sandbox), tmp_path / "mirror.db")
    with ExportLock(mirror.path), pytest.raises(ExportLockedError, match="another sync"):
        mirror.sync(USER)
    assert mirror.sync(USER).lists["collection"].mode == "full"
