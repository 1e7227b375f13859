"""The moving-window rate limiter, its header corrections, sharing, and the transports using it.

Time is a fake clock throughout: tests assert the computed waits and send times, never durations.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import random
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pytest_httpx import HTTPXMock

import musicagent.ratelimit
from musicagent.ratelimit import (
    MemoryRateLimitStore,
    RateLimiter,
    RateLimitHeaders,
    RateLimitStatus,
    Reservation,
    SqliteRateLimitStore,
    credential_fingerprint,
    earliest_send_time,
    parse_rate_limit_headers,
)
from musicagent.ratelimit.stores import LocalWindowStore
from musicagent.ratelimit.window import CLOCK_TOLERANCE, Entry, add_unaccounted, tidy
from musicagent.stats import ClientStats
from musicagent.wire import AsyncWireTransport, WireRules, WireTransport


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    """A clock that only moves when told to, or when a fake sleep advances it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def limiter_on(clock: FakeClock, max_requests: int = 3, window: float = 10.0) -> RateLimiter:
    return RateLimiter(
        max_requests, window, clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep
    )


def discogs_headers(limit: int, used: int, remaining: int) -> dict[str, str]:
    return {
        "X-Discogs-Ratelimit": str(limit),
        "X-Discogs-Ratelimit-Used": str(used),
        "X-Discogs-Ratelimit-Remaining": str(remaining),
    }


def entries(*times: float) -> list[tuple[float, int]]:
    return [(time, 1) for time in times]


def max_in_any_window(send_times: list[float], window: float) -> int:
    times = sorted(send_times)
    # The busiest window starts at some send time; count what falls in [t, t + window).
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


# --- the pure core -------------------------------------------------------------------------


def test_earliest_send_time_is_now_while_budget_remains() -> None:
    assert earliest_send_time(entries(1.0, 2.0), now=5.0, limit=3, span=10.0) == 5.0


def test_earliest_send_time_waits_for_the_oldest_of_a_full_window() -> None:
    assert earliest_send_time(entries(1.0, 2.0, 3.0), now=5.0, limit=3, span=10.0) == 11.0


def test_earliest_send_time_queues_behind_a_reservation() -> None:
    # Four slots for a limit of three: the fourth is reserved at 11, the next waits for slot 2.
    assert earliest_send_time(entries(1.0, 2.0, 3.0, 11.0), now=5.0, limit=3, span=10.0) == 12.0


def _reference_tidy(entries: list[Entry], now: float, limit: int, span: float) -> None:
    # The rule as first written: one walk over every entry.
    entries[:] = [entry for entry in entries if entry[0] > now - span]
    units_before = 0
    for index, (sent_at, units) in enumerate(entries):
        if sent_at > now + span * (units_before // limit) + CLOCK_TOLERANCE:
            del entries[index:]
            return
        units_before += units


def _reference_earliest(entries: list[Entry], now: float, limit: int, span: float) -> float:
    start = max(now, entries[-1][0]) if entries else now
    counted = 0
    for sent_at, units in reversed(entries):
        counted += units
        if counted >= limit:
            return max(start, sent_at + span)
    return start


def _reference_unaccounted(entries: list[Entry], now: float, server_used: int) -> None:
    sent = sum(units for sent_at, units in entries if sent_at <= now)
    if server_used > sent:
        bisect.insort_right(entries, (now, server_used - sent), key=lambda entry: entry[0])


def test_window_rules_agree_with_a_walk_over_every_entry() -> None:
    # tidy, earliest_send_time and add_unaccounted skip the walk where it cannot matter: on
    # random windows (weighted entries, reservations ahead, entries far ahead) they must give
    # the same answers as the walk.
    draw = random.Random(7)
    for _ in range(3000):
        limit, span, now = draw.randint(1, 6), draw.choice([1.0, 10.0]), 100.0
        times = sorted(now + draw.uniform(-2 * span, 3 * span) for _ in range(draw.randint(0, 12)))
        window = [(t, draw.choice([1, 1, 1, 2, 5])) for t in times]
        ours, theirs = list(window), list(window)
        tidy(ours, now, limit, span)
        _reference_tidy(theirs, now, limit, span)
        assert ours == theirs
        assert earliest_send_time(ours, now, limit, span) == _reference_earliest(
            theirs, now, limit, span
        )
        used = draw.randint(0, 2 * limit)
        add_unaccounted(ours, now, used)
        _reference_unaccounted(theirs, now, used)
        assert ours == theirs


def test_parse_headers_reads_values_case_insensitively() -> None:
    parsed = parse_rate_limit_headers(
        {"x-discogs-ratelimit": "60", "X-DISCOGS-RATELIMIT-USED": "7"}
    )

    assert parsed == RateLimitHeaders(limit=60, used=7, remaining=None)


def test_parse_headers_returns_none_without_rate_limit_headers() -> None:
    assert parse_rate_limit_headers({"Content-Type": "application/json"}) is None
    assert parse_rate_limit_headers({"X-Discogs-Ratelimit": "sixty"}) is None


# --- burst, then wait exactly until the oldest request leaves ------------------------------


def test_burst_goes_through_then_next_waits_until_oldest_leaves() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=3, window=10.0)

    waits = [limiter.acquire()]
    clock.now = 1.0
    waits.append(limiter.acquire())
    clock.now = 2.0
    waits.append(limiter.acquire())
    waits.append(limiter.acquire())  # the request sent at 0 leaves the window at 10

    assert waits == [0.0, 0.0, 0.0, 8.0]
    assert clock.sleeps == [8.0]
    assert clock.now == 10.0


@pytest.mark.anyio
async def test_async_burst_goes_through_then_next_waits_until_oldest_leaves() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=3, window=10.0)

    waits = [await limiter.acquire_async()]
    clock.now = 1.0
    waits.append(await limiter.acquire_async())
    clock.now = 2.0
    waits.append(await limiter.acquire_async())
    waits.append(await limiter.acquire_async())

    assert waits == [0.0, 0.0, 0.0, 8.0]
    assert clock.sleeps == [8.0]


def test_long_run_sends_one_request_per_freed_slot() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=60, window=60.0)

    send_times = []
    for _ in range(150):
        limiter.acquire()
        send_times.append(clock.now)

    # The fastest schedule the rule allows: 60 at once, then 60 more when those leave, ...
    assert send_times == [0.0] * 60 + [60.0] * 60 + [120.0] * 30


def test_budget_frees_after_a_quiet_window() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=2, window=10.0)
    limiter.acquire()
    limiter.acquire()

    clock.now = 10.0

    assert limiter.acquire() == 0.0
    assert limiter.acquire() == 0.0


def test_status_reports_used_remaining_and_next_free_slot() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=3, window=10.0)
    limiter.acquire()
    clock.now = 4.0
    limiter.acquire()
    limiter.acquire()

    assert limiter.status() == RateLimitStatus(
        limit=3, used=3, remaining=0, window=10.0, next_free_in=6.0
    )
    clock.now = 10.0
    assert limiter.status() == RateLimitStatus(
        limit=3, used=2, remaining=1, window=10.0, next_free_in=0.0
    )


# --- corrections from the server -----------------------------------------------------------


def test_headers_reporting_more_used_add_the_other_programs_requests() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=60, window=60.0)
    limiter.acquire()

    # Another program has spent 49 of the same budget: the server counts 50 with ours.
    limiter.update_from_headers(discogs_headers(limit=60, used=50, remaining=10))

    status = limiter.status()
    assert (status.used, status.remaining) == (50, 10)
    waits = [limiter.acquire() for _ in range(11)]
    assert waits == [0.0] * 10 + [60.0]


def test_remaining_header_alone_also_corrects_the_budget() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=60, window=60.0)

    limiter.update_from_headers({"X-Discogs-Ratelimit-Remaining": "5"})

    assert limiter.status().remaining == 5


def test_headers_reporting_fewer_used_do_not_raise_our_budget() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=60, window=60.0)
    for _ in range(10):
        limiter.acquire()

    limiter.update_from_headers(discogs_headers(limit=60, used=3, remaining=57))

    assert limiter.status().remaining == 50


def test_limit_from_the_server_is_adopted() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=60, window=60.0)
    limiter.acquire()

    limiter.update_from_headers(discogs_headers(limit=25, used=1, remaining=24))

    assert limiter.max_requests == 25
    assert limiter.status().remaining == 24
    waits = [limiter.acquire() for _ in range(25)]
    assert waits == [0.0] * 24 + [60.0]


def test_429_marks_the_window_full_until_our_oldest_request_leaves() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=60, window=60.0)
    limiter.acquire()
    clock.now = 5.0
    limiter.acquire()

    limiter.on_throttled()

    assert limiter.status().remaining == 0
    assert limiter.acquire() == 55.0  # the request sent at 0 frees its slot at 60


def test_record_response_treats_429_as_full_window() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=5, window=10.0)
    limiter.acquire()

    limiter.record_response(429, {})

    assert limiter.status().remaining == 0


# --- one store transaction per attempt -------------------------------------------------------


class CountingStore(LocalWindowStore):
    """A window in a list, counting its transactions (as the SQLite store would run them)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.transactions = 0

    @contextmanager
    def transaction(self) -> Iterator[list[Entry]]:
        self.transactions += 1
        yield self.entries


def counting_limiter(clock: FakeClock, max_requests: int, window: float) -> RateLimiter:
    return RateLimiter(
        max_requests,
        window,
        clock=clock,
        store=CountingStore(),
        sleep=clock.sleep,
        async_sleep=clock.async_sleep,
    )


def transactions(limiter: RateLimiter) -> int:
    store = limiter.store
    assert isinstance(store, CountingStore)
    return store.transactions


def test_an_attempt_whose_response_the_window_already_counts_takes_one_transaction() -> None:
    clock = FakeClock(now=0.0)
    limiter = counting_limiter(clock, max_requests=60, window=60.0)

    for sent in range(1, 6):
        admission = limiter.admit()
        limiter.record_response(
            200, discogs_headers(limit=60, used=sent, remaining=60 - sent), admission
        )
        clock.now += 1.0

    assert transactions(limiter) == 5
    assert limiter.status().used == 5


def test_a_response_counting_more_than_the_window_holds_corrects_it_at_once() -> None:
    clock = FakeClock(now=0.0)
    limiter = counting_limiter(clock, max_requests=60, window=60.0)

    admission = limiter.admit()
    limiter.record_response(200, discogs_headers(limit=60, used=50, remaining=10), admission)

    assert transactions(limiter) == 2
    assert limiter.status().remaining == 10


def test_a_429_fills_the_window_at_once_even_with_the_admission() -> None:
    clock = FakeClock(now=0.0)
    limiter = counting_limiter(clock, max_requests=5, window=10.0)

    admission = limiter.admit()
    limiter.record_response(429, discogs_headers(limit=5, used=1, remaining=4), admission)

    assert limiter.status().remaining == 0


def test_a_response_arriving_after_the_oldest_sends_left_is_checked_in_the_store() -> None:
    clock = FakeClock(now=0.0)
    limiter = counting_limiter(clock, max_requests=3, window=10.0)
    limiter.acquire()
    clock.now = 1.0
    limiter.acquire()
    clock.now = 2.0
    admission = limiter.admit()
    # The request sent at 0 left our window at 10; the server still counts three.
    clock.now = 10.5
    before = transactions(limiter)

    limiter.record_response(200, discogs_headers(limit=3, used=3, remaining=0), admission)

    assert transactions(limiter) == before + 1
    assert limiter.status().remaining == 0


def test_a_lower_limit_from_the_server_is_checked_in_the_store() -> None:
    clock = FakeClock(now=0.0)
    limiter = counting_limiter(clock, max_requests=60, window=60.0)

    admission = limiter.admit()
    limiter.record_response(200, discogs_headers(limit=25, used=1, remaining=24), admission)

    assert transactions(limiter) == 2
    assert limiter.max_requests == 25


def test_the_transport_takes_one_transaction_per_attempt() -> None:
    clock = FakeClock(now=0.0)
    limiter = counting_limiter(clock, max_requests=60, window=60.0)
    sent = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        clock.now += 0.01  # the time a request takes
        return httpx.Response(200, headers=discogs_headers(60, sent, 60 - sent), json={})

    transport = WireTransport(httpx.MockTransport(handle), rules(limiter))
    with httpx.Client(transport=transport) as client:
        for _ in range(4):
            client.get("https://api.discogs.com/releases/1")

    assert transactions(limiter) == 4


@pytest.mark.anyio
async def test_the_async_transport_takes_one_transaction_per_attempt() -> None:
    clock = FakeClock(now=0.0)
    limiter = counting_limiter(clock, max_requests=60, window=60.0)
    sent = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        clock.now += 0.01  # the time a request takes
        return httpx.Response(200, headers=discogs_headers(60, sent, 60 - sent), json={})

    transport = AsyncWireTransport(httpx.MockTransport(handle), rules(limiter))
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(4):
            await client.get("https://api.discogs.com/releases/1")

    assert transactions(limiter) == 4


def test_the_in_process_stores_running_total_matches_a_count_of_its_window() -> None:
    # MemoryRateLimitStore keeps the units of its window as it goes; a store counting them
    # in every transaction must give the same answers to every operation.
    draw = random.Random(5)
    for _ in range(100):
        clock = FakeClock(now=0.0)
        kept, counted = MemoryRateLimitStore(), CountingStore()
        limit, span = draw.randint(1, 6), draw.choice([2.0, 10.0])
        reservations: list[tuple[Reservation, Reservation]] = []
        for _step in range(60):
            clock.now += draw.choice([0.0, 0.0, 0.3, 1.0, span, -2.0])
            action = draw.choice(["reserve"] * 4 + ["release", "correct", "fill", "edit"])
            if action == "reserve":
                pair = (kept.reserve(clock, limit, span), counted.reserve(clock, limit, span))
                assert pair[0] == pair[1]
                reservations.append(pair)
            elif action == "release" and reservations:
                mine, theirs = reservations.pop(draw.randrange(len(reservations)))
                kept.release(mine)
                counted.release(theirs)
            elif action == "correct":
                used = draw.randint(0, limit)
                kept.correct(clock, limit, span, used)
                counted.correct(clock, limit, span, used)
            elif action == "fill":
                kept.fill(clock, limit, span)
                counted.fill(clock, limit, span)
            elif action == "edit":
                # Someone changing the window through the public transaction.
                for store in (kept, counted):
                    with store.transaction() as window:
                        bisect.insort(window, (clock.now - 0.5, 3))
            assert kept.snapshot(clock, limit, span) == counted.snapshot(clock, limit, span)


def test_skipping_the_store_leaves_the_window_a_correction_would_have_left() -> None:
    # Random runs (weighted corrections, queues, slow responses, lower limits, 429s): a
    # limiter given each attempt's admission must keep the window one that corrects in the
    # store after every response keeps, whatever it skipped.
    draw = random.Random(11)
    for _ in range(200):
        clocks = [FakeClock(now=0.0), FakeClock(now=0.0)]
        limit, window = draw.randint(1, 5), draw.choice([5.0, 10.0])
        skipping, always = (limiter_on(clock, limit, window) for clock in clocks)
        for _attempt in range(draw.randint(1, 25)):
            step = draw.choice([0.0, 0.0, 0.5, 3.0, window])
            admissions = []
            for clock, limiter in zip(clocks, (skipping, always), strict=True):
                clock.now += step
                admissions.append(limiter.admit())
            assert admissions[0].wait == admissions[1].wait
            latency = draw.choice([0.0, 0.1, 2.0, window + 1.0])
            headers = discogs_headers(
                limit=draw.choice([limit, limit, limit, max(1, limit - 1)]),
                used=draw.randint(0, limit + 1),
                remaining=draw.randint(0, limit),
            )
            status = draw.choice([200] * 9 + [429])
            for clock in clocks:
                clock.now += latency
            skipping.record_response(status, headers, admissions[0])
            always.record_response(status, headers)
            assert skipping.status() == always.status()


# --- concurrency ---------------------------------------------------------------------------


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    # Switch threads every microsecond so that an unlocked read-modify-write would interleave.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def test_eight_threads_sharing_one_limiter_never_exceed_the_budget(
    frequent_thread_switches: None,
) -> None:
    clock = FakeClock(now=0.0)  # time stands still: every wait comes from reservations alone
    limiter = RateLimiter(10, 1.0, clock=clock, sleep=lambda _seconds: None)
    send_times: list[float] = []
    record = threading.Lock()
    start = threading.Barrier(8)

    def crawl() -> None:
        start.wait()
        for _ in range(50):
            send_at = clock() + limiter.acquire()
            with record:
                send_times.append(send_at)

    threads = [threading.Thread(target=crawl) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(send_times) == 400
    assert max_in_any_window(send_times, 1.0) == 10
    assert sorted(Counter(send_times).values()) == [10] * 40  # packed as tight as allowed


@pytest.mark.anyio
async def test_fifty_tasks_sharing_one_limiter_never_exceed_the_budget() -> None:
    clock = FakeClock(now=0.0)

    async def yield_only(_seconds: float) -> None:
        await asyncio.sleep(0)  # let the other tasks interleave

    limiter = RateLimiter(10, 1.0, clock=clock, async_sleep=yield_only)
    send_times: list[float] = []

    async def crawl() -> None:
        for _ in range(4):
            send_times.append(clock() + await limiter.acquire_async())

    await asyncio.gather(*(crawl() for _ in range(50)))

    assert len(send_times) == 200
    assert max_in_any_window(send_times, 1.0) == 10
    assert sorted(Counter(send_times).values()) == [10] * 20


@pytest.mark.anyio
async def test_cancelled_waiter_gives_its_slot_back() -> None:
    clock = FakeClock(now=0.0)
    waiting = asyncio.Event()

    async def park(_seconds: float) -> None:
        waiting.set()
        await asyncio.Event().wait()  # never returns by itself

    limiter = RateLimiter(1, 10.0, clock=clock, async_sleep=park)
    await limiter.acquire_async()
    task = asyncio.create_task(limiter.acquire_async())
    await waiting.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert limiter.reserve() == 10.0  # not 20: the cancelled reservation was released


# --- one limiter per credential ------------------------------------------------------------


def test_shared_returns_one_limiter_per_credential() -> None:
    alice = credential_fingerprint("test-shared", "alice-token")
    bob = credential_fingerprint("test-shared", "bob-token")

    first = RateLimiter.shared(alice, 60, 60.0)

    assert RateLimiter.shared(alice, 25, 60.0) is first
    assert RateLimiter.shared(bob, 60, 60.0) is not first
    assert first.max_requests == 60


def test_shared_registry_is_safe_under_concurrent_first_use() -> None:
    identity = credential_fingerprint("test-shared-race", "carol-token")
    found: list[RateLimiter] = []
    start = threading.Barrier(8)

    def lookup() -> None:
        start.wait()
        found.append(RateLimiter.shared(identity))

    threads = [threading.Thread(target=lookup) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(limiter) for limiter in found}) == 1


def test_credential_fingerprint_does_not_contain_the_token() -> None:
    fingerprint = credential_fingerprint("tok-abcdef123456")

    assert "abcdef123456" not in fingerprint
    assert fingerprint == credential_fingerprint("tok-abcdef123456")
    assert fingerprint != credential_fingerprint("tok-abcdef123457")


# --- sharing across processes through SQLite -----------------------------------------------


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "ratelimit.sqlite3"


def test_two_limiters_on_one_sqlite_file_share_one_budget(sqlite_path: Path) -> None:
    clock = FakeClock(now=1_700_000_000.0)
    stores = [SqliteRateLimitStore(sqlite_path), SqliteRateLimitStore(sqlite_path)]
    first, second = (RateLimiter(4, 10.0, clock=clock, store=store) for store in stores)

    waits = [first.reserve(), second.reserve(), first.reserve(), second.reserve()]
    waits += [second.reserve(), first.reserve()]

    assert waits == [0.0, 0.0, 0.0, 0.0, 10.0, 10.0]
    assert first.status().remaining == 0
    for store in stores:
        store.close()


def test_sqlite_store_keeps_header_corrections_for_other_limiters(sqlite_path: Path) -> None:
    clock = FakeClock(now=1_700_000_000.0)
    stores = [SqliteRateLimitStore(sqlite_path), SqliteRateLimitStore(sqlite_path)]
    first, second = (RateLimiter(60, 60.0, clock=clock, store=store) for store in stores)

    first.update_from_headers(discogs_headers(limit=60, used=58, remaining=2))

    assert second.status().remaining == 2
    for store in stores:
        store.close()


def test_sqlite_limiter_defaults_to_wall_clock_time(sqlite_path: Path) -> None:
    store = SqliteRateLimitStore(sqlite_path)
    limiter = RateLimiter(5, 60.0, store=store)

    limiter.reserve()

    with store.transaction() as window:
        # A Unix timestamp, not a monotonic reading another process could not compare.
        assert window[0][0] > 1_600_000_000
    store.close()


_CHILD = textwrap.dedent(
    """
    import json, sys
    from musicagent.ratelimit import RateLimiter, SqliteRateLimitStore

    path, count = sys.argv[1], int(sys.argv[2])
    limiter = RateLimiter(10, 60.0, clock=lambda: 1_700_000_000.0,
                          store=SqliteRateLimitStore(path), sleep=lambda s: None)
    print(json.dumps([1_700_000_000.0 + limiter.acquire() for _ in range(count)]))
    """
)


def test_two_processes_on_one_sqlite_file_stay_within_the_limit(sqlite_path: Path) -> None:
    overlay = Path(musicagent.ratelimit.__file__).resolve().parents[2]
    python_path = os.pathsep.join([str(overlay), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": python_path}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(sqlite_path), "15"],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(2)
    ]
    send_times: list[float] = []
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        send_times += json.loads(out)

    assert len(send_times) == 30
    assert max_in_any_window(send_times, 60.0) == 10
    assert sorted(Counter(send_times).values()) == [10, 10, 10]


# --- the transports ------------------------------------------------------------------------


def counting_handler(
    statuses: list[int], headers: dict[str, str] | None = None
) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []
    replies = iter(statuses)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(replies), headers=headers or {}, json={})

    return seen, httpx.MockTransport(handle)


def rules(limiter: RateLimiter) -> WireRules:
    return WireRules(
        limiter=limiter, stats=ClientStats(), total_timeout=None, max_response_bytes=1 << 20
    )


def test_transport_waits_for_the_limiter_before_sending() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=2, window=10.0)
    seen, inner = counting_handler([200, 200, 200])

    with httpx.Client(transport=WireTransport(inner, rules(limiter))) as client:
        for _ in range(3):
            client.get("https://api.discogs.com/releases/1")

    assert len(seen) == 3
    assert clock.sleeps == [10.0]


@pytest.mark.anyio
async def test_async_transport_waits_for_the_limiter_before_sending() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=2, window=10.0)
    seen, inner = counting_handler([200, 200, 200])

    async with httpx.AsyncClient(transport=AsyncWireTransport(inner, rules(limiter))) as client:
        for _ in range(3):
            await client.get("https://api.discogs.com/releases/1")

    assert len(seen) == 3
    assert clock.sleeps == [10.0]


def test_transport_learns_from_response_headers(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(headers=discogs_headers(limit=60, used=59, remaining=1), json={})
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=60, window=60.0)

    with httpx.Client(transport=WireTransport(httpx.HTTPTransport(), rules(limiter))) as client:
        client.get("https://api.discogs.com/releases/1")

    assert limiter.status().remaining == 1


@pytest.mark.anyio
async def test_async_transport_learns_from_response_headers(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(headers=discogs_headers(limit=60, used=59, remaining=1), json={})
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=60, window=60.0)

    transport = AsyncWireTransport(httpx.AsyncHTTPTransport(), rules(limiter))
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://api.discogs.com/releases/1")

    assert limiter.status().remaining == 1


def test_transport_marks_the_window_full_on_429() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=5, window=10.0)
    seen, inner = counting_handler([429, 200])

    with httpx.Client(transport=WireTransport(inner, rules(limiter))) as client:
        client.get("https://api.discogs.com/releases/1")
        client.get("https://api.discogs.com/releases/1")

    assert len(seen) == 2
    assert clock.sleeps == [10.0]


@pytest.mark.anyio
async def test_async_transport_marks_the_window_full_on_429() -> None:
    clock = FakeClock(now=0.0)
    limiter = limiter_on(clock, max_requests=5, window=10.0)
    seen, inner = counting_handler([429, 200])

    async with httpx.AsyncClient(transport=AsyncWireTransport(inner, rules(limiter))) as client:
        await client.get("https://api.discogs.com/releases/1")
        await client.get("https://api.discogs.com/releases/1")

    assert len(seen) == 2
    assert clock.sleeps == [10.0]


def test_limiter_rejects_a_nonsensical_configuration() -> None:
    with pytest.raises(ValueError, match="max_requests"):
        RateLimiter(0, 60.0)
    with pytest.raises(ValueError, match="window"):
        RateLimiter(60, 0.0)


def test_margin_holds_each_send_past_the_window_for_network_delay() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 10.0, clock=clock, sleep=clock.sleep, margin=0.5)
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(10.5)
    assert limiter.status().window == 10.0


@pytest.mark.parametrize(
    "raw",
    [
        [("X-Discogs-Ratelimit", "60"), ("X-Discogs-Ratelimit-Used", "3")],
        [("x-discogs-ratelimit-used", "3"), ("X-DISCOGS-RATELIMIT-USED", "4")],
        [("X-Discogs-Ratelimit-Remaining", " 7 "), ("Content-Type", "application/json")],
        [("Content-Type", "application/json")],
        [("X-Discogs-Ratelimit-Used", "9" * 40), ("X-Discogs-Ratelimit-Remaining", "-3")],
        [("X-Discogs-Ratelimit", "6 0"), ("X-Discogs-Ratelimit-Used", "+5")],
        [("X-Discogs-Ratelimit-Usedx", "5"), ("X-Discogs-Ratelimitx", "1"), ("X-D", "2")],
        [("X-Discogs-Ratelimit", "60"), ("x-discogs-ratelimit", "60")],
    ],
)
def test_response_headers_read_like_any_mapping(raw: list[tuple[str, str]]) -> None:
    # The httpx.Headers path reads the headers in place; it must agree with a plain mapping.
    from musicagent.ratelimit.headers import parse_rate_limit_headers

    headers = httpx.Headers(raw)
    assert parse_rate_limit_headers(headers) == parse_rate_limit_headers(dict(headers.items()))
