"""Property tests of the page walkers: whatever the server's paging looks like, every item
comes back exactly once, in order, and no page past the last one is asked for.

A mock server pages a list of any length with any page size (it may ignore the `per_page=100`
the walkers ask for), reports `pages` as 0 or 1 for an empty list, and gives the next page as a
relative link, an absolute link to itself, an absolute link to another host, or not at all (the
walker then counts pages itself) — chosen per page. Hypothesis runs derandomized: the same
cases every run.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicagent import AsyncDiscogs, Discogs
from musicagent.retry import RetryPolicy

BASE = "http://127.0.0.1:9"
PATH = "/users/walker/collection/folders/0/releases"
LINK_STYLES = ("relative", "absolute", "other host", "none")
REPEATABLE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass
class Listing:
    """How the mock server pages its list."""

    total: int
    page_size: int
    links: list[str]
    """Per page: how its next link is written (`none`: no link)."""
    empty_pages: int
    """What `pagination.pages` says for an empty list (Discogs says 0 or 1)."""
    loop_to: int | None = None
    """A broken server: the last page links back to this page."""
    asked: list[httpx.URL] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    def next_link(self, page: int) -> str | None:
        style = self.links[page - 1]
        path = f"{PATH}?page={page + 1}&per_page=100"
        return {
            "relative": path,
            "absolute": BASE + path,
            "other host": "https://api.discogs.com" + path,
            "none": None,
        }[style]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url)
        page = int(request.url.params.get("page", "1"))
        if not 1 <= page <= self.pages:
            return httpx.Response(404, json={"message": "Page beyond the last one."})
        first = (page - 1) * self.page_size
        ids = range(first + 1, min(first + self.page_size, self.total) + 1)
        urls: dict[str, Any] = {}
        link = self.next_link(page) if page < self.pages else None
        if page == self.pages and self.loop_to is not None:
            link = f"{PATH}?page={self.loop_to}&per_page=100"
        if link is not None:
            urls["next"] = link
        pagination = {
            "page": page,
            "pages": self.pages if self.total else self.empty_pages,
            "per_page": self.page_size,
            "items": self.total,
            "urls": urls,
        }
        releases = [
            {
                "id": 10_000 + n,
                "instance_id": n,
                "folder_id": 1,
                "basic_information": {"id": 10_000 + n},
            }
            for n in ids
        ]
        return httpx.Response(200, json={"pagination": pagination, "releases": releases})


@st.composite
def listings(draw: st.DrawFn) -> Listing:
    total = draw(st.integers(min_value=0, max_value=450))
    page_size = draw(st.one_of(st.just(100), st.integers(min_value=1, max_value=100)))
    pages = max(1, math.ceil(total / page_size))
    links = draw(
        st.one_of(
            st.sampled_from(LINK_STYLES).map(lambda style: [style] * pages),
            st.lists(st.sampled_from(LINK_STYLES), min_size=pages, max_size=pages),
        )
    )
    return Listing(total, page_size, links, draw(st.sampled_from([0, 1])))


def _options(listing: Listing) -> dict[str, Any]:
    return {
        "token": "walker-token-123",
        "base_url": BASE,
        "transport": httpx.MockTransport(listing.handle),
        "rate_limiter": False,
        "cache": False,
        "retry_policy": RetryPolicy(max_attempts=1),
    }


def _walk(listing: Listing) -> list[int]:
    with Discogs(**_options(listing)) as client:
        items = client.collection.iter_collection_items_by_folder("walker", 0)
        return [item.instance_id for item in items]


def _async_walk(listing: Listing) -> list[int]:
    async def walk() -> list[int]:
        async with AsyncDiscogs(**_options(listing)) as client:
            items = client.collection.iter_collection_items_by_folder("walker", 0)
            return [item.instance_id async for item in items]

    return asyncio.run(walk())


def _check(listing: Listing, instance_ids: list[int]) -> None:
    assert instance_ids == list(range(1, listing.total + 1))
    asked_pages = [int(url.params.get("page", "1")) for url in listing.asked]
    assert asked_pages == list(range(1, listing.pages + 1))
    # Credentials only ever go to the configured server, whatever host a link names.
    assert {(url.scheme, url.host, url.port) for url in listing.asked} == {("http", "127.0.0.1", 9)}
    assert all(url.path == PATH for url in listing.asked)
    assert listing.asked[0].params["per_page"] == "100"


@REPEATABLE
@given(listings())
def test_walking_pages_yields_every_item_once_in_order_and_stops_at_the_last(
    listing: Listing,
) -> None:
    _check(listing, _walk(listing))


@REPEATABLE
@given(listings())
def test_async_walking_pages_yields_every_item_once_in_order_and_stops_at_the_last(
    listing: Listing,
) -> None:
    _check(listing, _async_walk(listing))


@settings(derandomize=True, database=None, deadline=None, max_examples=30)
@given(st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=6))
def test_a_next_link_back_to_a_page_already_read_ends_the_walk(loop_to: int, pages: int) -> None:
    # A broken server linking its last page back to an earlier one (the first included) must
    # neither send us round forever nor hand out any item twice.
    listing = Listing(
        total=pages * 10,
        page_size=10,
        links=["relative"] * pages,
        empty_pages=1,
        loop_to=min(loop_to, pages),
    )

    instance_ids = _walk(listing)

    assert instance_ids == list(range(1, pages * 10 + 1))
    assert len(listing.asked) == pages
