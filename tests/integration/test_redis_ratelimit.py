"""The Redis rate-limit store against a real ``redis-server``.

Each store below has a connection of its own (its own `RedisLink`), as workers on several
machines would. What is checked: reservations are atomic across threads and processes, the
API's headers correct the shared window, the clients' clocks play no part (Redis' clock
does), budgets are separate and filed under keyed hashes, a slot given back is free again, and
a server that vanishes and comes back (restarted empty) is rejoined by every worker, old and
new. Slots are read from what the store grants, never timed.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from musicagent.ratelimit import RateLimiter, RedisRateLimitStore
from musicagent.ratelimit.redis_store import KEY_PREFIX
from musicagent.redis_link import RedisLink
from tests.redis_server import RedisProcess, redis_process, redis_server, redis_url  # noqa: F401

pytestmark = pytest.mark.integration

redis = pytest.importorskip("redis")

WINDOW = 60.0  # long: nothing leaves the window while a test runs, so slots are exact
ROOT = Path(__file__).resolve().parents[2]


def store_on(url: str, budget: str = "team", *, retry_interval: float = 5.0) -> RedisRateLimitStore:
    """A store with a connection of its own, like one worker's."""
    return RedisRateLimitStore(
        url, budget=budget, link=RedisLink(url, retry_interval=retry_interval)
    )


def limiter_on(
    url: str,
    budget: str = "team",
    limit: int = 5,
    *,
    clock: Callable[[], float] | None = None,
    retry_interval: float = 5.0,
) -> RateLimiter:
    store = store_on(url, budget, retry_interval=retry_interval)
    return RateLimiter(limit, WINDOW, store=store, clock=clock)


def most_in_one_window(slots: list[float], window: float) -> int:
    """The largest number of slots inside any half-open window of that length."""
    ordered = sorted(slots)
    most, start = 0, 0
    for end, slot in enumerate(ordered):
        while slot - ordered[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_threads_with_connections_of_their_own_never_overbook(redis_url: str) -> None:  # noqa: F811
    limiters = [limiter_on(redis_url, limit=5) for _ in range(8)]
    barrier = threading.Barrier(len(limiters))
    slots: list[float] = []
    lock = threading.Lock()

    def reserve_five(limiter: RateLimiter) -> None:
        barrier.wait()
        for _ in range(5):
            reservation = limiter._reserve()
            with lock:
                slots.append(reservation.slot)

    threads = [threading.Thread(target=reserve_five, args=(lim,)) for lim in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(slots) == 40
    assert most_in_one_window(slots, WINDOW) == 5
    # Eight windows' worth, each one window after the last: nobody waits longer than needed.
    first = min(slots)
    assert sorted(round((slot - first) / WINDOW) for slot in slots) == [
        n for n in range(8) for _ in range(5)
    ]


_PROCESS_WORKER = textwrap.dedent(
    """
    import json, pathlib, sys, time
    from musicagent.ratelimit import RateLimiter, RedisRateLimitStore
    url, go, count = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3])
    limiter = RateLimiter(10, 60.0, store=RedisRateLimitStore(url, budget="team"))
    limiter.status()  # connected before the start signal
    while not go.exists():
        time.sleep(0.001)
    print(json.dumps([limiter._reserve().slot for _ in range(count)]))
    """
)


def test_processes_sharing_one_budget_never_overbook(redis_url: str, tmp_path: Path) -> None:  # noqa: F811
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_WORKER, redis_url, str(go), "10"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(0.5)  # let them import; a late one only joins later, which is also fine
    go.touch()
    slots = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        slots += json.loads(out)

    assert len(slots) == 40
    assert most_in_one_window(slots, WINDOW) == 10


def test_the_apis_headers_correct_the_window_every_worker_shares(redis_url: str) -> None:  # noqa: F811
    one, other = limiter_on(redis_url, limit=10), limiter_on(redis_url, limit=10)
    one.reserve()
    # The API counts seven: one is ours, six were spent by someone we cannot see.
    one.record_response(
        200,
        {
            "X-Discogs-Ratelimit": "10",
            "X-Discogs-Ratelimit-Used": "7",
            "X-Discogs-Ratelimit-Remaining": "3",
        },
    )

    status = other.status()
    assert (status.used, status.remaining) == (7, 3)
    assert [other.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert other.reserve() > WINDOW - 2


def test_an_attempt_whose_response_the_window_already_counts_is_one_round_trip(
    redis_url: str,  # noqa: F811
) -> None:
    limiter = limiter_on(redis_url, limit=10)
    store = limiter.store
    assert isinstance(store, RedisRateLimitStore)
    limiter.reserve()  # derives the keys (a round trip of its own)
    calls: list[str] = []
    script = store._script

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["args"][0])
        return script(*args, **kwargs)

    store._script = counted  # type: ignore[method-assign]
    for sent in range(2, 6):
        admission = limiter.admit()
        headers = {"X-Discogs-Ratelimit-Used": str(sent), "X-Discogs-Ratelimit": "10"}
        limiter.record_response(200, headers, admission)
    assert calls == ["reserve"] * 4

    # Six more than the window holds, spent by someone else: corrected at once, for everyone.
    admission = limiter.admit()
    limiter.record_response(200, {"X-Discogs-Ratelimit-Used": "12"}, admission)
    assert calls[-2:] == ["reserve", "correct"]
    assert limiter_on(redis_url, limit=10).status().used == 10


def test_a_429_fills_the_shared_window(redis_url: str) -> None:  # noqa: F811
    one, other = limiter_on(redis_url, limit=10), limiter_on(redis_url, limit=10)
    one.record_response(429, {})

    assert other.status().remaining == 0
    assert other.reserve() > WINDOW - 2


@pytest.mark.parametrize("skew", [3600.0, -3600.0, 7 * 86400.0])
def test_client_clocks_play_no_part_only_redis_clock_does(
    redis_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    skew: float,
) -> None:
    on_time = limiter_on(redis_url, limit=3)
    for _ in range(3):
        assert on_time.reserve() == 0.0

    # Another worker whose clock is far off, the process's wall clock included.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + skew)
    skewed = limiter_on(redis_url, limit=3, clock=lambda: real_time() + skew)

    wait = skewed.reserve()
    assert WINDOW - 5 < wait <= WINDOW
    assert skewed.status().used == 3
    # And its reservation is dated on Redis' clock too: the on-time worker queues behind it.
    assert WINDOW - 5 < on_time.reserve() <= WINDOW + 0.01


def test_budgets_are_separate_and_filed_under_keyed_hashes(redis_url: str) -> None:  # noqa: F811
    team, other_team = limiter_on(redis_url, "team-a", 2), limiter_on(redis_url, "team-b", 2)
    assert [team.reserve() for _ in range(2)] == [0.0, 0.0]
    assert team.reserve() > 0
    assert other_team.reserve() == 0.0

    server = redis.Redis.from_url(redis_url)
    try:
        keys = sorted(key.decode() for key in server.scan_iter(match="*"))
        values = b" ".join(
            member
            for key in keys
            if server.type(key) == b"zset"
            for member in server.zrange(key, 0, -1)
        )
    finally:
        server.close()
    assert KEY_PREFIX + "salt" in keys
    windows = [key for key in keys if key.count(":") == 2 and not key.endswith(":salt")]
    assert len(windows) == 2
    for key in keys:
        assert "team-a" not in key and "team-b" not in key
    assert b"team" not in values


def test_a_slot_given_back_is_free_again_unless_someone_queued_behind_it(
    redis_url: str,  # noqa: F811
) -> None:
    limiter, peer = limiter_on(redis_url, limit=2), limiter_on(redis_url, limit=2)
    limiter.reserve(), limiter.reserve()
    waiting = limiter._reserve()
    assert waiting.wait > 0 and waiting.token
    limiter.store.release(waiting)  # the caller gave up before sending
    assert units(peer) == 2
    again = peer._reserve()
    assert abs(again.wait - waiting.wait) < 1.0

    behind = limiter._reserve()  # queued after `again`
    peer.store.release(again)  # not the latest: kept, or `behind` would lose its place
    assert units(peer) == 4
    assert behind.slot > again.slot


def units(limiter: RateLimiter) -> int:
    """Units in the window, reservations not yet due included."""
    return limiter.store.snapshot(time.time, limiter.max_requests, WINDOW).units


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "musicagent.redis" and r.levelno == logging.WARNING
    ]


def _wait_until(condition: Callable[[], Any], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


def test_workers_pace_locally_while_redis_is_down_and_rejoin_when_it_is_back(
    redis_process: RedisProcess,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="musicagent.redis")
    url = redis_process.url
    first, second = (limiter_on(url, limit=10, retry_interval=0.2) for _ in range(2))
    first.reserve()
    assert second.status().used == 1

    redis_process.kill()
    assert first.reserve() == 0.0  # the local window serves at once
    assert not first.store.shared  # type: ignore[attr-defined]
    # The API's headers still correct the local window: six more were spent meanwhile.
    first.record_response(200, {"X-Discogs-Ratelimit-Used": "8"})
    assert first.status().used == 8
    for _ in range(5):
        first.reserve()
        first.status()
    assert len(_warnings(caplog)) == 1  # this worker's link warned once for the outage
    second.reserve()
    assert len(_warnings(caplog)) == 2  # and the other worker's, once

    redis_process.start()  # same port, empty: salt and window are gone
    time.sleep(0.3)
    _wait_until(lambda: first.status().used > 0 and first.store.shared)  # type: ignore[attr-defined]
    # Back in the shared window, carrying what the local one learned: it was full.
    assert first.status().used == second.status().used == 10
    assert second.reserve() > WINDOW - 2
    # A worker started after the restart shares that window too.
    newcomer = limiter_on(url, limit=20)
    assert newcomer.status().used == first.status().used
    assert len(_warnings(caplog)) == 2
    back = [r.getMessage() for r in caplog.records if "answers again" in r.getMessage()]
    assert back and all(r.levelno == logging.INFO for r in caplog.records if r in back)


def test_keys_are_derived_again_when_the_salt_vanished_without_an_outage(
    redis_url: str,  # noqa: F811
) -> None:
    old_worker = limiter_on(redis_url, limit=10)
    old_worker.reserve()
    server = redis.Redis.from_url(redis_url)
    try:
        server.flushall()  # an operator flushed, or eviction took the salt
    finally:
        server.close()
    new_worker = limiter_on(redis_url, limit=10)
    new_worker.reserve()
    old_worker.reserve()

    assert new_worker.status().used == old_worker.status().used == 2


def test_an_unreachable_redis_at_the_start_still_paces(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket_closed() as port:
        url = f"redis://:redis-rl-pass-77aa@127.0.0.1:{port}/0"
        limiter = limiter_on(url, limit=2)
        with caplog.at_level(logging.WARNING, logger="musicagent.redis"):
            waits = [limiter.reserve() for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and waits[2] > WINDOW - 1
    messages = _warnings(caplog)
    assert len(messages) == 1 and "redis-rl-pass-77aa" not in messages[0]
    assert "rate window of this process" in messages[0]
    assert "redis-rl-pass-77aa" not in repr(limiter.store)


class socket_closed:
    """A loopback port nobody listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.anyio
async def test_the_async_client_shares_the_window_off_the_event_loop_and_survives_an_outage(
    redis_process: RedisProcess,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    from musicagent import AsyncDiscogs
    from musicagent.settings import DiscogsSettings

    settings = DiscogsSettings(rate_limit_backend="redis", redis_url=redis_process.url)
    body = {"id": 1, "title": "x", "resource_url": "https://api.discogs.com/releases/1"}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    loop_thread = threading.get_ident()
    reserved_on: list[int] = []
    original = RedisRateLimitStore.reserve

    def noting(self: RedisRateLimitStore, *args: Any) -> Any:
        reserved_on.append(threading.get_ident())
        return original(self, *args)

    monkeypatch.setattr(RedisRateLimitStore, "reserve", noting)
    async with AsyncDiscogs(
        token="async-redis-token-1", transport=transport, settings=settings, cache=False
    ) as client:
        for release in (1, 2):
            await client.database.get_release(release)
        assert client.rate_limit is not None and client.rate_limit.used == 2
        redis_process.kill()
        with caplog.at_level(logging.WARNING, logger="musicagent"):
            for release in (3, 4, 5):
                await client.database.get_release(release)
    assert len(reserved_on) == 5 and loop_thread not in reserved_on
    assert len(_warnings(caplog)) == 1
