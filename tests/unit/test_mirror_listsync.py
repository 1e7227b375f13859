"""The list sync's reconciliation on a list it fully controls: items sharing a timestamp across
a page break, removals anywhere, and the requests each case costs."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from musicagent.mirror.kinds import WANTLIST, ListKind
from musicagent.mirror.listsync import ListSync
from musicagent.mirror.schema import open_database
from musicagent.mirror.store import Store

USER = "me"


class FakeList:
    """A wantlist served newest first, 100 a page, counting the pages asked for."""

    def __init__(self, dates: list[str]) -> None:
        self.items = [
            {"id": n + 1, "rating": 0, "notes": "", "date_added": date}
            for n, date in enumerate(sorted(dates, reverse=True))
        ]
        self.requests = 0

    def fetch(self, kind: ListKind, user: str, page: int) -> Mapping[str, Any]:
        self.requests += 1
        pages = max(1, math.ceil(len(self.items) / 100))
        return {
            "pagination": {"page": page, "pages": pages, "per_page": 100, "items": len(self.items)},
            "wants": self.items[(page - 1) * 100 : page * 100],
        }


def _sync(store: Store, served: FakeList, run_id: int, *, full: bool = False) -> Any:
    return ListSync(store, WANTLIST, USER, run_id, served.fetch).run(full=full)


def _stored(store: Store) -> set[int]:
    return {row[0] for row in store.db.execute("SELECT release_id FROM wants")}


def _dates(count: int, distinct: int) -> list[str]:
    # `distinct` timestamps only: long runs of items added in the same second.
    seconds = [n * distinct // count for n in range(count)]
    return [f"2024-01-01T00:{s // 60:02d}:{s % 60:02d}+00:00" for s in seconds]


@pytest.mark.parametrize("distinct", [1000, 7, 1])
def test_removals_are_found_exactly_even_across_shared_timestamps(
    tmp_path: Path, distinct: int
) -> None:
    store = Store(open_database(tmp_path / "m.db"))
    served = FakeList(_dates(1000, distinct))
    _sync(store, served, 1)
    assert len(_stored(store)) == 1000
    chance = random.Random(distinct)
    for _ in range(4):
        served.items.pop(chance.randrange(len(served.items)))
    served.requests = 0
    result = _sync(store, served, 2)
    assert result.removed == 4
    assert _stored(store) == {item["id"] for item in served.items}
    if distinct == 1000:  # distinct dates: a bisection, far from the 10 pages of a walk
        assert served.requests <= 2 + 4 * math.ceil(math.log2(10))


def test_nothing_removed_costs_two_requests_and_nothing_is_deleted(tmp_path: Path) -> None:
    store = Store(open_database(tmp_path / "m.db"))
    served = FakeList(_dates(640, 640))
    _sync(store, served, 1)
    served.requests = 0
    result = _sync(store, served, 2)
    # The head page, and one stored page read again for edits in place (2 + 2 mod 6 = 4).
    assert (result.mode, result.removed, served.requests) == ("incremental", 0, 2)
    assert result.reread == 4
    assert len(_stored(store)) == 640


def test_each_run_rereads_the_next_page_so_an_edit_in_place_is_seen(tmp_path: Path) -> None:
    store = Store(open_database(tmp_path / "m.db"))
    served = FakeList(_dates(640, 640))  # 7 pages
    _sync(store, served, 1)
    served.items[350] = {**served.items[350], "rating": 4}  # page 4; its date and place kept
    reread = []
    for run_id in range(2, 9):
        result = _sync(store, served, run_id)
        reread.append(result.reread)
    # Pages 2..7 in turn, run after run: every stored page is read again within pages - 1 runs.
    assert sorted(set(reread)) == [2, 3, 4, 5, 6, 7]
    row = store.db.execute(
        "SELECT rating FROM wants WHERE release_id = ?", (served.items[350]["id"],)
    ).fetchone()
    assert row[0] == 4


def test_items_sharing_the_newest_timestamp_are_read_through(tmp_path: Path) -> None:
    # An unseen item dated like the newest stored one may be new: the head is read until an
    # older date (here the newest timestamp spans 214 items, three pages).
    store = Store(open_database(tmp_path / "m.db"))
    served = FakeList(_dates(640, 3))
    _sync(store, served, 1)
    served.items.insert(
        150, {"id": 9999, "rating": 0, "notes": "", "date_added": served.items[0]["date_added"]}
    )
    served.requests = 0
    result = _sync(store, served, 2)
    # Three head pages, and page 4 (2 + 2 mod 6) read again for edits in place.
    assert (result.added, result.removed, served.requests) == (1, 0, 4)
    assert 9999 in _stored(store)


def test_a_list_out_of_order_is_walked_whole(tmp_path: Path) -> None:
    store = Store(open_database(tmp_path / "m.db"))
    served = FakeList(_dates(250, 250))
    _sync(store, served, 1)
    served.items.reverse()  # oldest first: "stop at the last seen" would stop at once
    served.items.pop(0)
    result = _sync(store, served, 2)
    assert result.mode == "full"
    assert _stored(store) == {item["id"] for item in served.items}
