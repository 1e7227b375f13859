"""Many threads or tasks sharing one client stay within the rate limit: zero 429s at the server.

The sandbox enforces a moving window scaled down from Discogs' 60 per 60 s; clients are built
the way an application builds them (the limit from `DISCOGS_RATE_LIMIT_*` settings, the default
safety margin), so what is checked is the pacing users get. Every answer must be right, the
server must count no 429 at all, and the client's own send times must never put more requests
in one window than the limit allows.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from musicagent import AsyncDiscogs, Discogs
from musicagent.testing import SANDBOX_TOKEN, Sandbox
from tests.reliability.conftest import FAULT_SEED

pytestmark = pytest.mark.integration

WINDOW = 1.0


class SendTimes(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The real transports (sync and async), noting when each request leaves."""

    def __init__(self) -> None:
        self._sync = httpx.HTTPTransport()
        self._async = httpx.AsyncHTTPTransport()
        self._lock = threading.Lock()
        self.times: list[float] = []

    def _note(self) -> None:
        with self._lock:
            self.times.append(time.monotonic())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._note()
        return self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._note()
        return await self._async.handle_async_request(request)

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()


def most_in_one_window(times: list[float], window: float) -> int:
    """The largest number of send times falling inside any span of `window` seconds."""
    ordered = sorted(times)
    start, most = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox allowing `limit` requests per second, and client settings to match."""
    limit: int = request.param
    monkeypatch.setenv("DISCOGS_RATE_LIMIT_REQUESTS", str(limit))
    monkeypatch.setenv("DISCOGS_RATE_LIMIT_WINDOW", str(WINDOW))
    monkeypatch.setenv("DISCOGS_CACHE", "off")
    with Sandbox(rate_limit=limit, rate_window=WINDOW, seed=FAULT_SEED) as running:
        yield running


def _assert_within_limit(sandbox: Sandbox, requests: int, times: list[float]) -> None:
    stats = sandbox.stats()
    limit = sandbox.config.rate_limit
    assert stats["requests"] == requests
    assert stats["status_429"] == 0 and stats["rate_limited"] == 0
    # The budget was used, not wasted: the first burst filled the window.
    assert stats["rate_limit"]["max_used"]["ip:127.0.0.1"] == limit
    assert len(times) == requests
    assert most_in_one_window(times, WINDOW) <= limit


@pytest.mark.parametrize("sandbox", [10], indirect=True)
def test_eight_threads_sharing_one_client_get_no_429(sandbox: Sandbox) -> None:
    wire = SendTimes()
    with Discogs(token=SANDBOX_TOKEN, base_url=sandbox.base_url, transport=wire) as client:

        def fetch(first: int) -> list[int]:
            return [client.database.get_release(n).id for n in range(first, first + 6)]

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(fetch, range(1, 49, 6)))

    assert sorted(i for chunk in ids for i in chunk) == list(range(1, 49))
    _assert_within_limit(sandbox, 48, wire.times)


@pytest.mark.parametrize("sandbox", [25], indirect=True)
def test_a_hundred_tasks_sharing_one_async_client_get_no_429(sandbox: Sandbox) -> None:
    wire = SendTimes()

    async def run() -> list[int]:
        async with AsyncDiscogs(
            token=SANDBOX_TOKEN, base_url=sandbox.base_url, transport=wire
        ) as client:
            releases = await asyncio.gather(
                *(client.database.get_release(n) for n in range(1, 101))
            )
        return [release.id for release in releases]

    assert asyncio.run(run()) == list(range(1, 101))
    _assert_within_limit(sandbox, 100, wire.times)


@pytest.mark.parametrize("sandbox", [40], indirect=True)
def test_threads_and_tasks_of_two_clients_share_one_budget(sandbox: Sandbox) -> None:
    # One credential, one budget: a sync and an async client built with the same token get
    # the same process-wide limiter, so together they still never overrun the server's window.
    wire = SendTimes()
    with Discogs(token=SANDBOX_TOKEN, base_url=sandbox.base_url, transport=wire) as client:

        async def tasks() -> list[int]:
            async with AsyncDiscogs(
                token=SANDBOX_TOKEN, base_url=sandbox.base_url, transport=wire
            ) as async_client:
                assert async_client.limiter is client.limiter
                releases = await asyncio.gather(
                    *(async_client.database.get_release(n) for n in range(101, 201))
                )
            return [release.id for release in releases]

        def fetch(first: int) -> list[int]:
            return [client.database.get_release(n).id for n in range(first, first + 5)]

        with ThreadPoolExecutor(9) as pool:
            from_tasks = pool.submit(asyncio.run, tasks())
            from_threads = list(pool.map(fetch, range(1, 41, 5)))
            task_ids = from_tasks.result()

    assert sorted(i for chunk in from_threads for i in chunk) == list(range(1, 41))
    assert task_ids == list(range(101, 201))
    _assert_within_limit(sandbox, 140, wire.times)
