"""Hostile rate-limit headers cannot make the limiter do unbounded work or hang a call.

A server (or anything between it and us) answers with `X-Discogs-Ratelimit-Used: 300000000`,
`-Remaining: -3000000` or an absurd `X-Discogs-Ratelimit`. The values are clamped to
`[0, limit]`: the call returns, the window holds a handful of entries (one for "the window is
full", whatever number was claimed), and the next request waits for one window, not forever.
Each hostile call runs in a thread with a generous liveness guard, because before the fix it
never returned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from musicagent import Discogs
from musicagent.ratelimit import MemoryRateLimitStore, RateLimiter

# Seconds a call may take before it is called hung: far above anything a loaded machine needs
# for one loopback request, far below "never".
LIVENESS_GUARD = 60.0

HOSTILE = [
    pytest.param({"X-Discogs-Ratelimit-Used": "300000000"}, id="used-huge"),
    pytest.param({"X-Discogs-Ratelimit-Remaining": "-3000000"}, id="remaining-negative"),
    pytest.param(
        {"X-Discogs-Ratelimit": "300000000", "X-Discogs-Ratelimit-Used": "300000000"},
        id="limit-and-used-huge",
    ),
    pytest.param({"X-Discogs-Ratelimit-Used": "9" * 5000}, id="used-5000-digits"),
    pytest.param({"X-Discogs-Ratelimit-Used": "-300000000"}, id="used-negative"),
]


def finishes(call: Callable[[], object]) -> bool:
    done = threading.Event()

    def run() -> None:
        call()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(LIVENESS_GUARD)


def window_entries(limiter: RateLimiter) -> list[tuple[float, int]]:
    store = limiter.store
    assert isinstance(store, MemoryRateLimitStore)
    with store.transaction() as entries:
        return list(entries)


@pytest.mark.parametrize("headers", HOSTILE)
def test_a_hostile_header_ends_the_call_and_costs_a_bounded_window(
    headers: dict[str, str],
) -> None:
    limiter = RateLimiter(60, 60.0, clock=lambda: 1000.0)

    def reply(request: httpx.Request) -> httpx.Response:
        body = {"id": 1, "title": "x", "resource_url": "https://api.discogs.com/releases/1"}
        return httpx.Response(200, json=body, headers=headers)

    with Discogs(
        token="hostile-header-token-1",
        base_url="http://127.0.0.1:9",
        transport=httpx.MockTransport(reply),
        rate_limiter=limiter,
        cache=False,
    ) as client:
        assert finishes(lambda: client.database.get_release(1))

    status = limiter.status()
    assert 0 <= status.used <= status.limit == 60
    assert len(window_entries(limiter)) <= 2
    # Whatever was claimed, the wait is at most one window.
    assert 0.0 <= status.next_free_in <= limiter.window


@pytest.mark.parametrize("headers", HOSTILE)
def test_a_hostile_header_on_a_429_still_means_one_full_window(headers: dict[str, str]) -> None:
    limiter = RateLimiter(60, 60.0, clock=lambda: 1000.0)

    assert finishes(lambda: limiter.record_response(429, headers))

    assert limiter.status().remaining == 0
    assert len(window_entries(limiter)) <= 2
    assert limiter.reserve() == 60.0


def test_a_huge_limit_header_never_raises_the_configured_limit() -> None:
    limiter = RateLimiter(25, 60.0, clock=lambda: 1000.0)

    limiter.record_response(200, {"X-Discogs-Ratelimit": "300000000"})

    assert limiter.max_requests == 25
    assert [limiter.reserve() for _ in range(26)][-2:] == [0.0, 60.0]
