"""`AsyncMirror` against the sandbox: the same flow as `Mirror`, the same database, and up to
`concurrency` hydration calls in flight at once."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from discogs_sandbox import SANDBOX_TOKEN, Sandbox
from musicagent import AsyncDiscogs
from musicagent.errors import InvalidParameterError
from musicagent.mirror import AsyncMirror, Mirror
from musicagent.mirror.fetch import fresh_page_async
from musicagent.mirror.kinds import ListKind
from musicagent.ratelimit import RateLimiter

USER = "sandbox"
FAST = {"rate_limit": 100_000, "rate_window": 1}

#: What a sync leaves, without the columns that say when (run ids, fetch times).
TABLES = {
    "collection": "SELECT instance_id, release_id, folder_id, rating, raw FROM collection_items",
    "wants": "SELECT username, release_id, raw FROM wants",
    "listings": "SELECT listing_id, release_id, price, raw FROM listings",
    "releases": "SELECT release_id, title, master_id, raw FROM releases",
    "tracks": "SELECT * FROM tracks",
    "masters": "SELECT master_id, raw FROM masters",
    "stats": "SELECT release_id, lowest_price, num_for_sale FROM marketplace_stats",
    "snapshots": "SELECT release_id, lowest_price, num_for_sale, suggestions FROM price_snapshots",
}


def _database(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    connection = sqlite3.connect(path)
    try:
        return {
            name: sorted(connection.execute(sql).fetchall(), key=repr)
            for name, sql in TABLES.items()
        }
    finally:
        connection.close()


class Counting(httpx.AsyncBaseTransport):
    """The default transport, counting requests in flight at once (and failing one on demand)."""

    def __init__(self, fail_release: int | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.in_flight = 0
        self.most = 0
        self.releases = 0
        self.fail_release = fail_release

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/releases/"):
            self.releases += 1
            if self.releases == self.fail_release:
                raise RuntimeError("the disk under the client failed")
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


def _async_client(sandbox: Sandbox, transport: httpx.AsyncBaseTransport | None = None) -> Any:
    return AsyncDiscogs(
        SANDBOX_TOKEN,
        base_url=sandbox.base_url,
        cache=False,
        transport=transport,
        rate_limiter=RateLimiter(sandbox.app.throttle.limit, sandbox.app.throttle.window),
    )


def _sync_fresh(sandbox: Sandbox, path: Path, **options: Any) -> Any:
    with sandbox.client() as client, Mirror(client, path) as mirror:
        return mirror.sync(USER, **options)


async def _async_sync(
    sandbox: Sandbox, path: Path, transport: Any = None, concurrency: int = 4, **options: Any
) -> Any:
    async with _async_client(sandbox, transport) as client:
        with AsyncMirror(client, path, concurrency=concurrency) as mirror:
            return await mirror.sync(USER, **options)


EVERYTHING: dict[str, Any] = {
    "only": "collection,wantlist,inventory",
    "hydrate": "releases,masters,stats",
    "prices": True,
}


@pytest.mark.discogs_sandbox(
    collection_size=260, wantlist_size=80, inventory_size=25, latency=0.005, **FAST
)
def test_async_sync_leaves_the_database_the_sync_one_leaves(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    expected = _sync_fresh(discogs_sandbox, tmp_path / "sync.db", **EVERYTHING)
    counting = Counting()
    report = asyncio.run(
        _async_sync(discogs_sandbox, tmp_path / "async.db", counting, **EVERYTHING)
    )
    assert _database(tmp_path / "async.db") == _database(tmp_path / "sync.db")
    # The same requests, no more: concurrency changes when they are sent, not what is sent.
    assert report.requests == expected.requests
    assert report.hydrated == expected.hydrated
    assert report.snapshots == expected.snapshots > 0
    assert 1 < counting.most <= 4
    assert discogs_sandbox.stats()["status_429"] == 0
    with sqlite3.connect(tmp_path / "async.db") as connection:
        status = connection.execute("SELECT status, requests FROM sync_runs").fetchall()
    assert status == [("done", report.requests)]


@pytest.mark.discogs_sandbox(collection_size=150, wantlist_size=20, latency=0.01, **FAST)
def test_hydration_keeps_at_most_concurrency_calls_in_flight(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    counting = Counting()
    report = asyncio.run(
        _async_sync(discogs_sandbox, tmp_path / "m.db", counting, concurrency=3, hydrate="releases")
    )
    distinct = len(_database(tmp_path / "m.db")["releases"])
    assert report.requests == math.ceil(150 / 100) + 1 + distinct
    assert report.hydrated == {"releases": distinct}
    assert 1 < counting.most <= 3


@pytest.mark.discogs_sandbox(collection_size=200, wantlist_size=10, **FAST)
def test_a_failed_call_stops_the_stage_and_the_next_run_fetches_only_the_rest(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "m.db"
    with pytest.raises(RuntimeError, match="disk under the client"):
        asyncio.run(
            _async_sync(discogs_sandbox, path, Counting(fail_release=40), hydrate="releases")
        )
    with sqlite3.connect(path) as connection:
        ((status, error),) = connection.execute("SELECT status, error FROM sync_runs").fetchall()
        kept = connection.execute(
            "SELECT count(*) FROM releases WHERE hydrated_at IS NOT NULL"
        ).fetchone()[0]
        distinct = connection.execute("SELECT count(*) FROM releases").fetchone()[0]
    assert status == "failed" and "disk under the client" in error
    # What landed before the failure is kept (each entity in its own transaction) ...
    assert 30 <= kept < distinct
    # ... and the next run asks for the rest only, after the incremental list pages (each
    # list's head, and the two-page collection's page 2 again).
    report = asyncio.run(_async_sync(discogs_sandbox, path, hydrate="releases"))
    assert report.hydrated == {"releases": distinct - kept}
    assert report.requests == 3 + distinct - kept
    fresh = tmp_path / "fresh.db"
    _sync_fresh(discogs_sandbox, fresh, hydrate="releases")
    assert _database(path) == _database(fresh)


class Killed(KeyboardInterrupt):
    """Stands for the process dying after a page was fetched and before it was written."""


@pytest.mark.discogs_sandbox(collection_size=530, wantlist_size=150, **FAST)
def test_a_killed_async_sync_resumes_to_the_same_database(
    discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "m.db"

    async def killed_after(pages: int) -> None:
        fetched = 0
        async with _async_client(discogs_sandbox) as client:

            async def fetch(kind: ListKind, user: str, page: int) -> Mapping[str, Any]:
                nonlocal fetched
                fetched += 1
                if fetched > pages:
                    raise Killed()
                return await fresh_page_async(client, kind, user, page)

            with AsyncMirror(client, path, fetch_page=fetch) as mirror:
                await mirror.sync(USER)

    with pytest.raises(Killed):
        asyncio.run(killed_after(3))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT status FROM sync_runs").fetchall() == [("interrupted",)]
        assert connection.execute("SELECT count(*) FROM collection_items").fetchone()[0] == 300
    report = asyncio.run(_async_sync(discogs_sandbox, path))
    assert report.lists["collection"].mode == "resumed"
    assert report.requests == math.ceil(530 / 100) - 3 + math.ceil(150 / 100)
    fresh = tmp_path / "fresh.db"
    _sync_fresh(discogs_sandbox, fresh)
    assert _database(path) == _database(fresh)


@pytest.mark.parametrize("concurrency", [0, -2, True, 2.5, "4"])
def test_a_bad_concurrency_is_refused_before_anything(
    concurrency: Any, discogs_sandbox: Sandbox, tmp_path: Path
) -> None:
    async def build() -> None:
        async with _async_client(discogs_sandbox) as client:
            AsyncMirror(client, tmp_path / "m.db", concurrency=concurrency)

    with pytest.raises(InvalidParameterError, match="concurrency") as caught:
        asyncio.run(build())
    assert caught.value.parameter == "concurrency"
    assert not (tmp_path / "m.db").exists()
    assert discogs_sandbox.stats()["requests"] == 0
