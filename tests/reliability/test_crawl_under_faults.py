"""Long crawls under injected faults return every item exactly once, in order.

The sandbox answers 10 % of requests with a 5xx, resets 5 % of connections in the middle of
the body, stalls 2 % past the client's timeout and starts bursts of 429s; the client must
still hand back exactly what a fault-free crawl gives. The faults are drawn from a fixed seed
(per URL and attempt), so every run meets the same ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from discogs_spec import load_example

from musicagent import AsyncDiscogs, Discogs
from musicagent.errors import NetworkError
from musicagent.ratelimit import RateLimiter
from musicagent.retry import RetryPolicy
from musicagent.testing import SANDBOX_TOKEN, FaultConfig, Sandbox
from tests.reliability.conftest import FAST_RETRIES, FAULT_SEED

PAGES = 300
"""Pages of the big crawl: 30,000 collection items at the 100 per page the iterators ask for.
The full size fits: on two cores the faulty crawl takes about 11 s and the clean one it is
compared with about 6 s."""

CRAWL_FAULTS = FaultConfig(
    p5xx=0.10,
    p_reset=0.05,
    p_stall=0.02,
    stall_seconds=3.0,
    p429=0.02,
    burst_429=3,
    max_consecutive=4,
    seed=FAULT_SEED,
)
"""What the big crawl runs through. `max_consecutive` bounds a streak of failures on one URL
(the client retries up to 10 times), so the crawl must always finish."""

TIMEOUT = 0.5
"""The client's timeout: far below `stall_seconds`, so every stall ends in a read timeout."""


class WireLog(httpx.HTTPTransport):
    """The real HTTP transport, noting the query of every request that reaches the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.pages.append(int(parse_qs(request.url.query.decode())["page"][0]))
        return super().handle_request(request)


@pytest.fixture(scope="module")
def big_sandbox() -> Iterator[Sandbox]:
    """A sandbox whose users hold 30,000 collection items (6,000 wants), paced per 0.5 s.

    The short window keeps each 429 cheap: the client treats one as a full window and waits
    for it to pass before the next attempt.
    """
    with Sandbox(
        collection_size=PAGES * 100, rate_limit=1000, rate_window=0.5, seed=FAULT_SEED
    ) as sandbox:
        yield sandbox


def _collection(client: Discogs) -> list[dict[str, Any]]:
    return [
        item.to_dict() for item in client.collection.iter_collection_items_by_folder("sandbox", 0)
    ]


@pytest.mark.integration
def test_300_page_crawl_under_faults_returns_every_item_once_in_order(
    big_sandbox: Sandbox,
) -> None:
    big_sandbox.reset()
    with big_sandbox.client(retry_policy=FAST_RETRIES) as client:
        expected = _collection(client)

    big_sandbox.reset()
    big_sandbox.set_faults(CRAWL_FAULTS)
    wire = WireLog()
    with big_sandbox.client(retry_policy=FAST_RETRIES, timeout=TIMEOUT, transport=wire) as client:
        crawled = _collection(client)
    stats = big_sandbox.stats()

    assert len(expected) == PAGES * 100
    assert crawled == expected
    assert len({item["instance_id"] for item in crawled}) == PAGES * 100
    # Every page was asked for, in order, and nothing past the last one.
    assert sorted(set(wire.pages)) == list(range(1, PAGES + 1))
    assert wire.pages == sorted(wire.pages)
    # The crawl really went through every kind of fault (counts are fixed by the seed).
    faults = stats["faults"]
    assert faults["5xx"] >= 20 and faults["reset"] >= 10 and faults["stall"] >= 3
    assert faults["429"] >= 3
    # Each 429 seen was an injected one: the client's own pacing never overran the limit.
    assert stats["status_429"] == faults["429"]
    assert stats["rate_limited"] == 0


@pytest.mark.integration
def test_async_crawl_under_resets_truncation_and_errors_matches_a_clean_crawl(
    big_sandbox: Sandbox,
) -> None:
    big_sandbox.reset()
    with big_sandbox.client(retry_policy=FAST_RETRIES) as client:
        expected = [want.to_dict() for want in client.wantlist.iter_wantlist("sandbox")]

    big_sandbox.reset()
    big_sandbox.set_faults(CRAWL_FAULTS.replace(p_truncate=0.05))

    async def crawl() -> list[dict[str, Any]]:
        async with AsyncDiscogs(
            token=SANDBOX_TOKEN,
            base_url=big_sandbox.base_url,
            rate_limiter=RateLimiter(1000, 0.5),
            retry_policy=FAST_RETRIES,
            timeout=TIMEOUT,
            cache=False,
        ) as client:
            return [want.to_dict() async for want in client.wantlist.iter_wantlist("sandbox")]

    crawled = asyncio.run(crawl())
    faults = big_sandbox.stats()["faults"]

    assert len(expected) == PAGES * 100 // 5
    assert crawled == expected
    assert faults["reset"] >= 1 and faults["truncate"] >= 1 and faults["5xx"] >= 1


@pytest.mark.integration
def test_truncated_bodies_are_retried_to_the_exact_value(big_sandbox: Sandbox) -> None:
    big_sandbox.reset()
    with big_sandbox.client(retry_policy=FAST_RETRIES) as client:
        expected = [client.database.get_release(n).to_dict() for n in range(1, 31)]
    big_sandbox.set_faults(p_truncate=0.5, max_consecutive=3, seed=FAULT_SEED)
    with big_sandbox.client(retry_policy=FAST_RETRIES) as client:
        fetched = [client.database.get_release(n).to_dict() for n in range(1, 31)]

    assert fetched == expected
    assert big_sandbox.stats()["faults"]["truncate"] >= 5


@pytest.mark.integration
def test_truncation_that_outlasts_the_retries_is_a_network_error(big_sandbox: Sandbox) -> None:
    big_sandbox.reset()
    big_sandbox.set_faults(p_truncate=1.0, seed=FAULT_SEED)
    with (
        big_sandbox.client(retry_policy=RetryPolicy(max_attempts=3, backoff_factor=0.01)) as c,
        pytest.raises(NetworkError, match="RemoteProtocolError") as caught,
    ):
        c.database.get_release(1)

    assert caught.value.method == "GET" and "/releases/1" in str(caught.value.url)
    assert big_sandbox.stats()["faults"] == {"truncate": 3}


# --- the retry layer reads operation bodies inside the attempt (no sockets needed) ----------


class BreaksMidBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that delivers half its bytes, then fails the way a reset connection does."""

    def __init__(self, body: bytes, error: httpx.TransportError) -> None:
        self.body = body
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield self.body[: len(self.body) // 2]
        raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body[: len(self.body) // 2]
        raise self.error


RELEASE = load_example("releases_get_200.json")
BROKEN_BODIES = [
    httpx.ReadError("[Errno 104] Connection reset by peer"),
    httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
]


def _flaky_server(error: httpx.TransportError, calls: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) == 1:
            body = httpx.Response(200, json=RELEASE).content
            return httpx.Response(
                200,
                headers={"Content-Type": "application/json", "Content-Length": str(len(body))},
                stream=BreaksMidBody(body, error),
            )
        return httpx.Response(200, json=RELEASE)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("error", BROKEN_BODIES, ids=lambda e: type(e).__name__)
def test_a_body_broken_mid_way_is_retried_not_raised(error: httpx.TransportError) -> None:
    calls: list[str] = []
    with Discogs(
        token="crawl-token-123",
        base_url="http://127.0.0.1:9",
        transport=_flaky_server(error, calls),
        rate_limiter=False,
        retry_policy=FAST_RETRIES,
        cache=False,
    ) as client:
        release = client.database.get_release(249504)

    assert release.to_dict() == RELEASE
    assert len(calls) == 2


@pytest.mark.parametrize("error", BROKEN_BODIES, ids=lambda e: type(e).__name__)
def test_async_a_body_broken_mid_way_is_retried_not_raised(error: httpx.TransportError) -> None:
    calls: list[str] = []

    async def fetch() -> dict[str, Any]:
        async with AsyncDiscogs(
            token="crawl-token-123",
            base_url="http://127.0.0.1:9",
            transport=_flaky_server(error, calls),
            rate_limiter=False,
            retry_policy=FAST_RETRIES,
            cache=False,
        ) as client:
            return (await client.database.get_release(249504)).to_dict()

    assert asyncio.run(fetch()) == RELEASE
    assert len(calls) == 2
