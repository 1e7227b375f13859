"""`Mirror`: one account's lists, hydrated entities and prices kept in step in one database."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from musicagent.cache import CachePolicy
from musicagent.client import Discogs
from musicagent.errors import (
    ExportLockedError,
    ForbiddenError,
    InvalidParameterError,
    ResourceNotFoundError,
)
from musicagent.export.lock import ExportLock
from musicagent.mirror.fetch import fresh_page, fresh_page_async
from musicagent.mirror.flow import (
    AsyncFetchPage,
    FetchPage,
    Flow,
    Get,
    checked_concurrency,
    run_async,
    run_sync,
)
from musicagent.mirror.hydrate import HYDRATE_KINDS, Hydrator
from musicagent.mirror.kinds import KINDS
from musicagent.mirror.listsync import ListResult, ListSync
from musicagent.mirror.prices import PriceSnapshot
from musicagent.mirror.reports import ValueReport, buyable_wants, collection_value
from musicagent.mirror.schema import default_path, open_database
from musicagent.mirror.store import Store, as_int, dumps

if TYPE_CHECKING:
    from musicagent.async_client import AsyncDiscogs

Progress = Callable[[str, int, int | None], None]
"""`(stage, done, total)`: a list's items, or the entities of a hydration stage."""

DEFAULT_KINDS = ("collection", "wantlist")
"""What a sync covers when `only` is not given."""

DEFAULT_CONCURRENCY = 4
"""`AsyncMirror`: calls of one hydration stage in flight at once. The limiter paces them all;
concurrency only hides each request's round trip, so a handful fills the rate budget."""


@dataclass
class SyncReport:
    """What one `Mirror.sync` did.

    Attributes:
        run_id: the run's row in `sync_runs`.
        lists: per list synced, how (full, resumed, incremental), pages, items added/removed.
        hydrated: entities fetched per hydration stage.
        snapshots: releases whose prices were snapshotted.
        requests: requests sent on the wire (retries included); `cache_hits` calls answered
            by the cache.
        changed_rows: rows inserted, changed or deleted.
    """

    run_id: int
    lists: dict[str, ListResult] = field(default_factory=dict)
    hydrated: dict[str, int] = field(default_factory=dict)
    snapshots: int = 0
    requests: int = 0
    cache_hits: int = 0
    changed_rows: int = 0


def parse_choices(
    value: str | Iterable[str] | None, allowed: Sequence[str], parameter: str
) -> tuple[str, ...]:
    """`"collection,wantlist"` (or a list) as a checked tuple in the allowed order."""
    if value is None:
        return ()
    words = value.split(",") if isinstance(value, str) else list(value)
    chosen = {w.strip().lower() for w in words if w.strip()}
    unknown = sorted(chosen - set(allowed))
    if unknown:
        raise InvalidParameterError(
            f"{parameter}: {', '.join(unknown)} is not one of {', '.join(allowed)}",
            parameter=parameter,
            allowed=list(allowed),
            value=",".join(unknown),
        )
    return tuple(a for a in allowed if a in chosen)


class _MirrorBase:
    """What both mirrors share: the database, the lock, the one sync flow, the queries."""

    def __init__(
        self,
        client: Any,
        path: str | os.PathLike[str] | None,
        policy: CachePolicy | None,
    ) -> None:
        self.client = client
        self.path = Path(path) if path is not None else default_path()
        self.db = open_database(self.path)
        self.policy = policy or CachePolicy()

    # --- life cycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- syncing ---------------------------------------------------------------------------

    def _plan(
        self,
        username: str,
        only: str | Iterable[str] | None,
        hydrate: str | Iterable[str] | None,
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The checked choices of a sync (nothing is sent when one is wrong)."""
        if not isinstance(username, str) or not username.strip():
            raise InvalidParameterError("username must not be empty", parameter="username")
        kinds = parse_choices(only, tuple(KINDS), "only") if only is not None else DEFAULT_KINDS
        return kinds, parse_choices(hydrate, HYDRATE_KINDS, "hydrate")

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One sync per database at a time (`<db>.lock`, released by the system if killed):
        a second one would take the first's running walk for an interrupted one."""
        lock = ExportLock(self.path)
        try:
            lock.acquire()
        except ExportLockedError as exc:
            who = f" ({exc.holder})" if exc.holder else ""
            raise ExportLockedError(
                f"another sync is writing {str(self.path)!r} right now{who}; wait for it to "
                "finish, or sync into another file (--db)",
                path=self.path,
                holder=exc.holder,
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _sync(
        self,
        username: str,
        kinds: tuple[str, ...],
        hydrate_kinds: tuple[str, ...],
        prices: bool,
        full: bool,
        on_progress: Progress | None,
    ) -> Flow[SyncReport]:
        store = Store(self.db)
        run_id = store.start_run(username, kinds, hydrate_kinds, prices)
        stats = self.client.stats
        requests0, hits0 = stats.requests, stats.cache_hits
        report = SyncReport(run_id)

        def count() -> None:
            report.requests = stats.requests - requests0
            report.cache_hits = stats.cache_hits - hits0
            store.progress_run(run_id, requests=report.requests, cache_hits=report.cache_hits)

        status, error = "failed", None
        try:
            for name in kinds:
                report.lists[name] = yield from ListSync(
                    store, KINDS[name], username, run_id, on_page=count, on_progress=on_progress
                ).flow(full=full)
                if name == "lists":
                    yield from self._list_items(store, username, count)
            hydrator = Hydrator(store, self.policy, count, on_progress)
            for stage in hydrate_kinds:
                yield from hydrator.stage(stage, username)
            report.hydrated = dict(hydrator.fetched)
            if prices:
                report.snapshots = yield from PriceSnapshot(
                    store, run_id, hydrator, count, on_progress
                ).take(username)
            status = "done"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            report.requests = stats.requests - requests0
            report.cache_hits = stats.cache_hits - hits0
            report.changed_rows = store.changed
            # When the database itself failed, the original error says more than this one.
            with contextlib.suppress(sqlite3.Error):
                store.finish_run(
                    run_id,
                    status,
                    requests=report.requests,
                    cache_hits=report.cache_hits,
                    error=error,
                )
        return report

    def _list_items(self, store: Store, username: str, count: Callable[[], None]) -> Flow[None]:
        """A list's items, fetched again only when the list's `date_changed` moved."""
        due = self.db.execute(
            "SELECT list_id, date_changed FROM lists WHERE username = ? AND "
            "(items_changed IS NULL OR items_changed IS NOT date_changed)",
            (username,),
        ).fetchall()
        for list_id, changed in due:
            try:
                body: Mapping[str, Any] = yield Get("get_list", {"list_id": list_id})
            except (ResourceNotFoundError, ForbiddenError):
                continue
            rows = []
            for n, item in enumerate(body.get("items") or []):
                if isinstance(item, Mapping):
                    rows.append(
                        {
                            "position": n,
                            "type": item.get("type"),
                            "item_id": as_int(item.get("id")),
                            "comment": item.get("comment"),
                            "raw": dumps(item),
                        }
                    )
            with store.transaction():
                store.replace_children("list_items", {"list_id": list_id}, rows)
                self.db.execute(
                    "UPDATE lists SET items_changed = ? WHERE list_id = ?", (changed, list_id)
                )
                store.changed += 1
                count()

    # --- reading ---------------------------------------------------------------------------

    def query(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[dict[str, Any]]:
        """Rows of any query over the mirror, as dicts."""
        cursor = self.db.execute(sql, parameters)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def collection(self, username: str) -> list[dict[str, Any]]:
        """The collection's instances with their release's title, year and artist names,
        newest first."""
        return self.query(
            "SELECT c.instance_id, c.release_id, c.folder_id, c.rating, c.date_added, r.title, "
            "r.year, r.master_id, (SELECT group_concat(a.name, ', ') FROM release_artists ra "
            "JOIN artists a ON a.artist_id = ra.artist_id WHERE ra.release_id = c.release_id "
            "AND ra.extra = 0) AS artists FROM collection_items c "
            "LEFT JOIN releases r ON r.release_id = c.release_id "
            "WHERE c.username = ? ORDER BY c.added_ts DESC, c.instance_id DESC",
            (username,),
        )

    def wants(self, username: str) -> list[dict[str, Any]]:
        """The wantlist with each release's title and year, newest first."""
        return self.query(
            "SELECT w.release_id, w.rating, w.notes, w.date_added, r.title, r.year "
            "FROM wants w LEFT JOIN releases r ON r.release_id = w.release_id "
            "WHERE w.username = ? ORDER BY w.added_ts DESC, w.release_id DESC",
            (username,),
        )

    def value(self, username: str) -> ValueReport:
        """The collection's value now, at the previous snapshot, and over time."""
        return collection_value(self.db, username)

    def wants_buyable(
        self, username: str, *, max_price: float | None = None, from_notes: bool = False
    ) -> list[dict[str, Any]]:
        """Wants whose lowest price is at or below the limit in their notes, or `max_price`."""
        return buyable_wants(self.db, username, max_price=max_price, from_notes=from_notes)

    def runs(self, username: str | None = None) -> list[dict[str, Any]]:
        """The `sync_runs` rows, newest first."""
        if username is None:
            return self.query("SELECT * FROM sync_runs ORDER BY run_id DESC")
        return self.query(
            "SELECT * FROM sync_runs WHERE username = ? ORDER BY run_id DESC", (username,)
        )


class Mirror(_MirrorBase):
    """A local mirror of one or more Discogs accounts in one SQLite database.

    ::

        from musicagent import Discogs
        from musicagent.sync import Mirror

        with Discogs(token="...") as client, Mirror(client, "mirror.db") as mirror:
            mirror.sync("rodney", only="collection,wantlist", hydrate="releases")
            for row in mirror.collection("rodney"):
                print(row["title"], row["rating"])

    Every request goes through `client` (its cache, its shared rate limiter, its retries). The
    database is created `0600`; `path=None` is `$XDG_DATA_HOME/musicagent/mirror.db`.
    `AsyncMirror` is the same with `AsyncDiscogs`, several hydration calls in flight at once.
    """

    def __init__(
        self,
        client: Discogs,
        path: str | os.PathLike[str] | None = None,
        *,
        policy: CachePolicy | None = None,
        fetch_page: FetchPage | None = None,
    ) -> None:
        super().__init__(client, path, policy)
        self._fetch_page: FetchPage = fetch_page or (
            lambda kind, user, page: fresh_page(client, kind, user, page)
        )

    def sync(
        self,
        username: str,
        *,
        only: str | Iterable[str] | None = None,
        hydrate: str | Iterable[str] | None = None,
        prices: bool = False,
        full: bool = False,
        on_progress: Progress | None = None,
    ) -> SyncReport:
        """Bring the mirror of `username` in step with Discogs.

        Args:
            only: lists to sync (`collection`, `wantlist`, `inventory`, `orders`, `lists`;
                default collection and wantlist).
            hydrate: full bodies to fetch for the lists' entities (`releases`, `masters`,
                `stats`).
            prices: take a price snapshot for this run.
            full: walk every list whole (sees edits in place: re-ratings, notes, prices).
            on_progress: `(stage, done, total)` after each page or entity.

        Raises:
            InvalidParameterError: an unknown list or hydration kind (nothing is sent).
        """
        kinds, hydrate_kinds = self._plan(username, only, hydrate)
        with self._exclusive():
            flow = self._sync(username, kinds, hydrate_kinds, prices, full, on_progress)
            return run_sync(flow, self.client, self._fetch_page)


class AsyncMirror(_MirrorBase):
    """`Mirror` with `AsyncDiscogs`: the same flow, database and reports, and up to
    `concurrency` hydration, statistics or price calls in flight at once (all paced by the
    client's one limiter, so the rate budget still holds)::

        async with AsyncDiscogs(token="...") as client:
            with AsyncMirror(client, "mirror.db", concurrency=4) as mirror:
                await mirror.sync("rodney", hydrate="releases")
    """

    def __init__(
        self,
        client: AsyncDiscogs,
        path: str | os.PathLike[str] | None = None,
        *,
        policy: CachePolicy | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        fetch_page: AsyncFetchPage | None = None,
    ) -> None:
        self.concurrency = checked_concurrency(concurrency)
        super().__init__(client, path, policy)
        self._fetch_page: AsyncFetchPage = fetch_page or (
            lambda kind, user, page: fresh_page_async(client, kind, user, page)
        )

    async def sync(
        self,
        username: str,
        *,
        only: str | Iterable[str] | None = None,
        hydrate: str | Iterable[str] | None = None,
        prices: bool = False,
        full: bool = False,
        on_progress: Progress | None = None,
    ) -> SyncReport:
        """`Mirror.sync`, awaited; the same arguments, database and report."""
        kinds, hydrate_kinds = self._plan(username, only, hydrate)
        with self._exclusive():
            flow = self._sync(username, kinds, hydrate_kinds, prices, full, on_progress)
            return await run_async(
                flow, self.client, self._fetch_page, concurrency=self.concurrency
            )


__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_KINDS",
    "AsyncMirror",
    "Mirror",
    "Progress",
    "SyncReport",
    "parse_choices",
]
