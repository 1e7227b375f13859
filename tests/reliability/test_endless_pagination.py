"""Pagination that a server cannot make endless, in the walkers of both clients.

A server announcing `pages: 10**9` with empty pages, one repeating the same items under a fresh
`next` link each time, one whose `next` link leads back to page 1 with its query parameters
reordered, one whose later pages claim more pages than the first, and one serving unique pages
without end: each walk ends, yields every real item exactly once, or stops with
`PaginationError` at `max_pages`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from musicagent import AsyncDiscogs, Discogs
from musicagent.errors import PaginationError

API = "https://api.discogs.com"
Pager = Callable[[int, httpx.Request], dict[str, Any]]


def want(number: int) -> dict[str, Any]:
    return {
        "id": number,
        "rating": 0,
        "date_added": "2024-01-01T00:00:00-08:00",
        "resource_url": f"{API}/users/rodney/wants/{number}",
        "basic_information": {
            "id": number,
            "title": f"Release {number}",
            "year": 2000,
            "resource_url": f"{API}/releases/{number}",
            "artists": [],
            "labels": [],
            "formats": [],
            "thumb": "",
            "cover_image": "",
        },
    }


def page(number: int, pages: int, items: list[dict[str, Any]], next_url: str | None) -> Any:
    urls = {"next": next_url} if next_url else {}
    pagination = {"page": number, "pages": pages, "per_page": 100, "items": 10**9, "urls": urls}
    return {"pagination": pagination, "wants": items}


class Counting:
    """A mock server counting requests; `pager(n, request)` builds the n-th answer (from 1)."""

    def __init__(self, pager: Pager) -> None:
        self.pager = pager
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.pager(len(self.requests), request))


def walk(mode: str, server: Counting, **options: Any) -> list[int]:
    transport = httpx.MockTransport(server)
    if mode == "sync":
        with Discogs("t0ken-for-pagination", transport=transport, cache=False, **options) as c:
            return [item.id for item in c.wantlist.iter_wantlist("rodney")]

    async def run() -> list[int]:
        async with AsyncDiscogs(
            "t0ken-for-pagination", transport=transport, cache=False, **options
        ) as client:
            return [item.id async for item in client.wantlist.iter_wantlist("rodney")]

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_billion_announced_pages_stop_at_the_first_empty_one(mode: str) -> None:
    def pager(n: int, _request: httpx.Request) -> Any:
        return page(n, 10**9, [want(n)] if n == 1 else [], None)

    server = Counting(pager)
    assert walk(mode, server) == [1]
    assert len(server.requests) == 2


def test_the_same_items_under_a_fresh_next_link_stop_the_walk(mode: str) -> None:
    def pager(n: int, _request: httpx.Request) -> Any:
        return page(n, 10**9, [want(1), want(2)], f"{API}/users/rodney/wants?page={n + 1}&x={n}")

    server = Counting(pager)
    assert walk(mode, server) == [1, 2]
    assert len(server.requests) == 2


def test_a_next_link_back_to_page_one_with_reordered_query_is_a_loop(mode: str) -> None:
    def pager(n: int, _request: httpx.Request) -> Any:
        back = f"{API}/users/rodney/wants?per_page=100&page=1"
        return page(n, 3, [want(n)], back)

    server = Counting(pager)
    assert walk(mode, server) == [1]
    assert len(server.requests) == 1


def test_the_page_count_is_fixed_by_the_first_page(mode: str) -> None:
    def pager(n: int, _request: httpx.Request) -> Any:
        pages = 2 if n == 1 else 10**6
        return page(n, pages, [want(n)], f"{API}/users/rodney/wants?page={n + 1}&per_page=100")

    server = Counting(pager)
    assert walk(mode, server) == [1, 2]
    assert len(server.requests) == 2


def test_unique_pages_without_end_stop_at_max_pages(mode: str) -> None:
    def pager(n: int, _request: httpx.Request) -> Any:
        return page(n, 10**9, [want(n)], f"{API}/users/rodney/wants?page={n + 1}&per_page=100")

    server = Counting(pager)
    with pytest.raises(PaginationError, match="stopped after 5 pages"):
        walk(mode, server, max_pages=5)
    assert len(server.requests) == 5


def test_a_next_link_to_another_host_is_followed_on_the_api_host_only(mode: str) -> None:
    def pager(n: int, _request: httpx.Request) -> Any:
        return page(n, 2, [want(n)], "https://evil.example/users/rodney/wants?page=2")

    server = Counting(pager)
    assert walk(mode, server) == [1, 2]
    assert {request.url.host for request in server.requests} == {"api.discogs.com"}
