"""The reads table: a plain read is one row, looked up, sorted and paged by the generic reader."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from discogs_spec import load_spec

from discogs_sandbox import SANDBOX_TOKEN, SandboxApp, SandboxConfig
from discogs_sandbox.endpoints import HANDLERS, READS
from discogs_sandbox.reading import Read

ROOT = "https://api.discogs.com"
AUTH = {"User-Agent": "reads-tests/1.0", "Authorization": f"Discogs token={SANDBOX_TOKEN}"}


def _get(app: SandboxApp, path: str, **params: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test"
        ) as client:
            return await client.get(path, params=params, headers=AUTH)

    return asyncio.run(send())


@pytest.fixture
def twin_app() -> Iterator[SandboxApp]:
    """A spec with a paged read of an artist's entries, answered by a row added to the table."""
    spec = copy.deepcopy(load_spec())
    item = copy.deepcopy(spec["paths"]["/artists/{artist_id}/releases"])
    item["get"]["operationId"] = "get_artist_twins"
    spec["paths"]["/artists/{artist_id}/twins"] = item
    READS["get_artist_twins"] = Read(
        lambda call, found: [
            {
                "id": n,
                "year": 2000 - n,
                "title": f"t{n}",
                "resource_url": f"{ROOT}/releases/{n}",
                "type": "release",
            }
            for n in range(1, 8)
        ],
        entry=lambda call, found, entry: {**entry, "artist": f"artist {found['artist_id']}"},
        sort_by_field=True,
    )
    try:
        yield SandboxApp(SandboxConfig(self_check=True, rate_limit=10**6), spec=spec)
    finally:
        del READS["get_artist_twins"]


def test_a_row_added_to_the_table_is_looked_up_sorted_and_paged(twin_app: SandboxApp) -> None:
    assert "get_artist_twins" not in HANDLERS
    page = _get(twin_app, "/artists/1/twins", per_page=3, page=2, sort="year")
    assert page.status_code == 200
    body = page.json()
    assert body["pagination"]["items"] == 7 and body["pagination"]["pages"] == 3
    assert [r["year"] for r in body["releases"]] == [1996, 1997, 1998]
    assert {r["artist"] for r in body["releases"]} == {"artist 1"}
    assert 'rel="next"' in page.headers["Link"]
    # The path's finder answers for what the id names; the generic pager for the page.
    assert _get(twin_app, "/artists/999999999/twins").json()["message"] == "Artist not found."
    assert _get(twin_app, "/artists/1/twins", page=9).status_code == 404
    assert _get(twin_app, "/__sandbox/stats").json()["invalid_bodies"] == []


def test_plain_reads_have_no_handler_of_their_own() -> None:
    # The database and user reads the sandbox once wrote out one by one are rows now.
    for operation in (
        "get_release",
        "get_master",
        "get_artist",
        "get_artist_releases",
        "get_label",
        "get_label_releases",
        "search",
        "get_profile",
        "get_user_contributions",
        "get_user_submissions",
        "get_wantlist",
        "get_user_lists",
    ):
        assert operation in READS and operation not in HANDLERS, operation
