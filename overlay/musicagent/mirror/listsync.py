"""Syncing one list of an account into the mirror: a whole walk, or only what changed.

**A whole walk** (the first sync, `full=True`, or a list the API cannot order by date) reads
every page, newest first where the API allows, writing each page in one transaction together
with the walk's progress (`walks`). Every row a page writes is marked with the walk's id; when
the last page is in, rows the walk did not see are deleted in one more transaction. A killed
walk is continued by the next run from the page after the last committed one.

**An incremental sync** (a list synced whole before, sorted by date added newest first) reads
pages from the newest until it reaches an item older than the newest one stored: everything
added since is in. Removed items are found by count: page 1 says how many items the list has,
so `stored + new - listed` items were removed. When that is not zero, a *cheap reconciliation*
finds them: for a fetched page, the stored items newer than its newest item, less the items
listed before it, estimate how many removed items lie before it; bisecting on that estimate
fetches only pages around the removals. An item is deleted only when proven gone — stored with
a date strictly inside the span a run of consecutive fetched pages covers, and on none of them.
If the proofs do not account for every removal (items sharing a timestamp across a page break),
the remaining pages are fetched and the difference is exact.

Edits in place of an item already stored (a re-rating, a note, a folder move) do not change
its date or its place, so no head page shows them. Each incremental sync therefore re-reads one
more stored page, in turn (page 2 + run id mod (pages - 1)): an unchanged account costs at most
two requests per list, and every page is read again within `pages - 1` runs. `--full` walks the
list whole and sees every edit at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from musicagent.errors import ResourceNotFoundError
from musicagent.mirror.flow import FetchPage, Flow, Page, run_sync
from musicagent.mirror.kinds import ListKind
from musicagent.mirror.store import Store, Walk, as_int, epoch
from musicagent.pagination import MAX_PAGES, PAGE_SIZE

Progress = Callable[[str, int, int | None], None]
"""`(kind, items done, items in all)` after each page."""


@dataclass
class ListResult:
    """What syncing one list did.

    Attributes:
        kind: the list.
        mode: `full`, `resumed` or `incremental`.
        pages: pages fetched.
        listed: how many items Discogs counts in the list.
        added: rows that did not exist before.
        removed: rows deleted because the item left the list.
        reread: the stored page an incremental sync read again for edits in place (None when
            none was due: a one-page list, or the page was fetched anyway).
    """

    kind: str
    mode: str
    pages: int = 0
    listed: int = 0
    added: int = 0
    removed: int = 0
    reread: int | None = None


@dataclass
class _Page:
    number: int
    keys: list[tuple[Any, ...]]
    dates: list[float | None]

    @property
    def newest(self) -> float | None:
        return self.dates[0] if self.dates else None

    @property
    def oldest(self) -> float | None:
        return self.dates[-1] if self.dates else None

    @property
    def ordered(self) -> bool:
        """Newest first, every date readable."""
        if any(d is None for d in self.dates):
            return False
        known = [d for d in self.dates if d is not None]
        return all(a >= b for a, b in itertools.pairwise(known))


def _pagination(body: Mapping[str, Any]) -> tuple[int, int]:
    """(pages, items) of a page body; a body without them counts as one page of what it has."""
    pagination = body.get("pagination") or {}
    pages = as_int(pagination.get("pages")) if isinstance(pagination, Mapping) else None
    items = as_int(pagination.get("items")) if isinstance(pagination, Mapping) else None
    return max(pages or 1, 1), items if items is not None else 0


@dataclass
class ListSync:
    """Syncs one list of one user (see the module documentation)."""

    store: Store
    kind: ListKind
    username: str
    run_id: int
    fetch: FetchPage | None = None
    """What `run` fetches pages with; `flow` yields them to its shell instead."""
    on_page: Callable[[], None] = lambda: None
    """Called inside each page's transaction (the run records its counters there)."""
    on_progress: Progress | None = None
    max_pages: int = MAX_PAGES
    result: ListResult = field(init=False)

    def run(self, *, full: bool = False) -> ListResult:
        """`flow`, its pages fetched with `fetch`."""
        if self.fetch is None:
            raise TypeError("ListSync.run needs fetch; or drive flow() with a shell")
        return run_sync(self.flow(full=full), None, self.fetch)

    def flow(self, *, full: bool = False) -> Flow[ListResult]:
        """Sync the list: continue a walk under way, walk it whole, or read what changed."""
        walk = self.store.walk(self.kind.name, self.username)
        synced_before = self.store.list_count(self.kind.name, self.username) is not None
        if walk is not None:
            self.result = ListResult(self.kind.name, "resumed")
            yield from self._walk(walk)
            if self._count() != self.result.listed:
                # The list changed while the walk was stopped, shifting items across the pages
                # already read: walk it again, whole.
                yield from self._walk(Walk(self.run_id, 1, None))
        elif full or not synced_before or self.kind.date_field is None:
            self.result = ListResult(self.kind.name, "full")
            yield from self._walk(Walk(self.run_id, 1, None))
        else:
            self.result = ListResult(self.kind.name, "incremental")
            yield from self._incremental()
        return self.result

    # --- shared ---------------------------------------------------------------------------------

    def _count(self) -> int:
        row = self.store.db.execute(
            f"SELECT count(*) FROM {self.kind.table} WHERE username = ?", (self.username,)
        ).fetchone()
        return int(row[0])

    def _fetch(self, number: int) -> Flow[tuple[Mapping[str, Any], list[Mapping[str, Any]]]]:
        try:
            body: Mapping[str, Any] = yield Page(self.kind, self.username, number)
        except ResourceNotFoundError:
            if number == 1:
                raise
            # Discogs answers 404 past the last page: the list shrank under a resumed walk.
            return {}, []
        self.result.pages += 1
        items = body.get(self.kind.items_key) or []
        return body, [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []

    def _write_page(self, items: list[Mapping[str, Any]], walk_id: int | None) -> _Page:
        keys, dates = [], []
        for item in items:
            self.kind.write(self.store, self.username, item, walk_id, self.run_id)
            keys.append(self.kind.key_of(self.username, item))
            dates.append(epoch(item.get(self.kind.date_field)) if self.kind.date_field else None)
        self.on_page()
        return _Page(0, keys, dates)

    def _delete(self, keys: list[tuple[Any, ...]]) -> None:
        for key in keys:
            where = self.kind.key_dict(key)
            self.store.delete(self.kind.table, where)
            for child in self.kind.children:
                column = self.kind.key[-1]
                self.store.db.execute(f"DELETE FROM {child} WHERE {column} = ?", (key[-1],))
        self.result.removed += len(keys)

    def _progress(self, done: int, total: int | None) -> None:
        if self.on_progress is not None:
            self.on_progress(self.kind.name, done, total)

    # --- a whole walk -----------------------------------------------------------------------

    def _walk(self, walk: Walk) -> Flow[None]:
        before = self._count()
        number = walk.next_page
        done = (number - 1) * PAGE_SIZE
        pages, listed = walk.pages or 1, self.result.listed
        while True:
            body, items = yield from self._fetch(number)
            if body:
                pages, listed = _pagination(body)
                self.result.listed = listed
            last = not items or number >= pages or number >= self.max_pages
            with self.store.transaction():
                self._write_page(items, walk.walk_id)
                if last:
                    self._sweep(walk.walk_id, listed)
                else:
                    self.store.save_walk(
                        self.kind.name, self.username, Walk(walk.walk_id, number + 1, pages)
                    )
            done += len(items)
            self._progress(min(done, listed), listed)
            if last:
                break
            number += 1
        self.result.added = max(0, self._count() - before + self.result.removed)

    def _sweep(self, walk_id: int, listed: int) -> None:
        """The walk is complete: rows it did not see left the list."""
        gone = self.store.db.execute(
            f"SELECT {', '.join(self.kind.key)} FROM {self.kind.table} "
            "WHERE username = ? AND (seen_walk IS NULL OR seen_walk != ?)",
            (self.username, walk_id),
        ).fetchall()
        self._delete([tuple(row) for row in gone])
        self.store.end_walk(self.kind.name, self.username)
        self.store.save_list_count(self.kind.name, self.username, listed, self.run_id)

    # --- an incremental sync ---------------------------------------------------------------

    def _newest_stored(self) -> float | None:
        row = self.store.db.execute(
            f"SELECT max(added_ts) FROM {self.kind.table} WHERE username = ?", (self.username,)
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def _incremental(self) -> Flow[None]:
        newest = self._newest_stored()
        stored_before = self._count()
        pages_seen: dict[int, _Page] = {}
        number, pages, listed = 1, 1, 0
        while True:
            body, items = yield from self._fetch(number)
            if number == 1:
                pages, listed = _pagination(body)
                self.result.listed = listed
            with self.store.transaction():
                page = self._write_page(items, None)
            page.number = number
            if not page.ordered or (
                number > 1
                and pages_seen[number - 1].oldest is not None
                and page.newest is not None
                and page.newest > (pages_seen[number - 1].oldest or 0.0)
            ):
                # Not newest first after all: only a whole walk can be trusted.
                self.result.mode = "full"
                yield from self._walk(Walk(self.run_id, 1, None))
                return
            pages_seen[number] = page
            reached = newest is None or any(d is not None and d < newest for d in page.dates)
            if not items or reached or number >= pages or number >= self.max_pages:
                break
            number += 1
        self.result.added = self._count() - stored_before
        self._progress(listed, listed)
        missing = self._count() - listed  # stored + new - listed: items that left the list
        if missing < 0:
            # More listed than stored and found: the stored list has a hole (a walk resumed
            # over a list that changed meanwhile). A whole walk mends it.
            self.result.mode = "full"
            yield from self._walk(Walk(self.run_id, 1, None))
            return
        if missing > 0:
            yield from self._reconcile(missing, pages_seen, pages)
        yield from self._reread(pages_seen, pages)
        with self.store.transaction():
            self.store.save_list_count(self.kind.name, self.username, listed, self.run_id)

    def _reread(self, seen: dict[int, _Page], pages: int) -> Flow[None]:
        """Read one stored page again, in turn, for edits in place (see the module docs)."""
        if pages < 2:
            return
        number = 2 + self.run_id % (pages - 1)
        if number in seen or number > self.max_pages:
            return
        yield from self._get(number, seen)
        self.result.reread = number

    def _stored_newer_than(self, moment: float) -> int:
        row = self.store.db.execute(
            f"SELECT count(*) FROM {self.kind.table} WHERE username = ? AND added_ts > ?",
            (self.username, moment),
        ).fetchone()
        return int(row[0])

    def _removed_before(self, page: _Page) -> int:
        """Estimate: stored items newer than the page's newest, less the items listed before
        the page (exact unless items share the page's newest timestamp across its edge)."""
        if page.newest is None:
            return 0
        return self._stored_newer_than(page.newest) - (page.number - 1) * PAGE_SIZE

    def _get(self, number: int, seen: dict[int, _Page]) -> Flow[_Page]:
        if number not in seen:
            _, items = yield from self._fetch(number)
            with self.store.transaction():
                page = self._write_page(items, None)
            page.number = number
            seen[number] = page
        return seen[number]

    def _removed_after(self, page: _Page) -> int:
        """Estimate: stored items at least as new as the page's oldest, less the items listed
        up to the page's end — the removed items before the page plus those within it."""
        if page.oldest is None:
            return 0
        row = self.store.db.execute(
            f"SELECT count(*) FROM {self.kind.table} WHERE username = ? AND added_ts >= ?",
            (self.username, page.oldest),
        ).fetchone()
        return int(row[0]) - ((page.number - 1) * PAGE_SIZE + len(page.keys))

    def _reconcile(self, missing: int, seen: dict[int, _Page], pages: int) -> Flow[None]:
        def bisect(lo: int, hi: int, after_lo: int, before_hi: int) -> Flow[None]:
            # `before_hi - after_lo` removed items lie on the pages strictly between lo and hi
            # (fetched pages, or hi one past the last); a fetched page shows its own.
            if before_hi <= after_lo or hi - lo <= 1:
                return
            mid = (lo + hi) // 2
            page = yield from self._get(mid, seen)
            yield from bisect(lo, mid, after_lo, self._removed_before(page))
            yield from bisect(mid, hi, self._removed_after(page), before_hi)

        start = max(seen)
        yield from bisect(start, pages + 1, self._removed_after(seen[start]), missing)
        gone = self._proven_gone(seen, pages)
        if len(gone) != missing:
            for number in range(1, pages + 1):
                yield from self._get(number, seen)
            gone = self._proven_gone(seen, pages)
        with self.store.transaction():
            self._delete(gone)
            self.on_page()

    def _proven_gone(self, seen: dict[int, _Page], pages: int) -> list[tuple[Any, ...]]:
        """Stored items that a run of consecutive fetched pages should list and does not."""
        listed_keys = {key for page in seen.values() for key in page.keys}
        runs: list[tuple[int, int]] = []
        for number in sorted(seen):
            if runs and runs[-1][1] == number - 1:
                runs[-1] = (runs[-1][0], number)
            else:
                runs.append((number, number))
        columns = ", ".join(self.kind.key)
        gone: set[tuple[Any, ...]] = set()
        for first, last in runs:
            # The span the run covers: open at an edge that borders a page not fetched (an
            # item with the edge's timestamp may sit there), unbounded at the list's ends.
            conditions, values = ["username = ?"], [self.username]
            if first > 1:
                conditions.append("added_ts < ?")
                values.append(seen[first].newest)  # type: ignore[arg-type]
            if last < pages:
                conditions.append("added_ts > ?")
                values.append(seen[last].oldest)  # type: ignore[arg-type]
            rows = self.store.db.execute(
                f"SELECT {columns} FROM {self.kind.table} WHERE {' AND '.join(conditions)}",
                values,
            ).fetchall()
            gone.update(tuple(row) for row in rows if tuple(row) not in listed_keys)
        return sorted(gone, key=str)


__all__ = ["FetchPage", "ListResult", "ListSync", "Progress"]
