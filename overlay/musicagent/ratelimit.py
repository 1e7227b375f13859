"""Proactive rate limiting for the Discogs API: a moving-window limiter and the transports using it.

Discogs allows 60 requests (25 unauthenticated) per moving 60-second window and reports the budget
on every response in `X-Discogs-Ratelimit`, `X-Discogs-Ratelimit-Used` and
`X-Discogs-Ratelimit-Remaining`. `RateLimiter` keeps the send time of every request in the window:
a burst goes through while budget remains, then each caller waits exactly until the oldest request
leaves the window, so a long crawl never sees a 429.

    limiter = RateLimiter.shared(credential_fingerprint(token), max_requests=60, window=60.0)
    transport = RateLimitTransport(httpx.HTTPTransport(), limiter)

Several processes spending one credential can share the budget through a small SQLite file:
`RateLimiter(store=SqliteRateLimitStore("discogs-ratelimit.sqlite3"))`.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import ClassVar, Protocol

import anyio
import httpx

from musicagent.extensions import RATE_LIMIT_WAIT

__all__ = [
    "AsyncRateLimitTransport",
    "MemoryRateLimitStore",
    "RateLimitHeaders",
    "RateLimitStatus",
    "RateLimitStore",
    "RateLimitTransport",
    "RateLimiter",
    "SqliteRateLimitStore",
    "credential_fingerprint",
    "earliest_send_time",
    "parse_rate_limit_headers",
]

LIMIT_HEADER = "x-discogs-ratelimit"
USED_HEADER = "x-discogs-ratelimit-used"
REMAINING_HEADER = "x-discogs-ratelimit-remaining"


@dataclass(frozen=True)
class RateLimitStatus:
    """A snapshot of the rate-limit budget, as reported by `RateLimiter.status()`.

    Attributes:
        limit: requests allowed per window (60 authenticated, 25 anonymous on Discogs).
        used: requests sent (by us or, as the server reported, by others) within the window.
        remaining: requests that may be sent right now without waiting.
        window: length of the moving window in seconds.
        next_free_in: seconds until the next request may be sent (0.0 when budget remains).
    """

    limit: int
    used: int
    remaining: int
    window: float
    next_free_in: float


@dataclass(frozen=True)
class RateLimitHeaders:
    """The `X-Discogs-Ratelimit*` values of one response; a missing header is None."""

    limit: int | None
    used: int | None
    remaining: int | None

    def server_used(self, limit: int) -> int | None:
        """How many requests the server counts in its window, from -Used or -Remaining."""
        candidates = []
        if self.used is not None:
            candidates.append(self.used)
        if self.remaining is not None:
            candidates.append(limit - self.remaining)
        return max(candidates) if candidates else None


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitHeaders | None:
    """Read `X-Discogs-Ratelimit`, `-Used` and `-Remaining`; None when none of them is present."""
    lowered = {name.lower(): value for name, value in headers.items()}
    values = tuple(_int_or_none(lowered.get(name)) for name in _HEADER_NAMES)
    if all(value is None for value in values):
        return None
    limit, used, remaining = values
    return RateLimitHeaders(limit=limit, used=used, remaining=remaining)


_HEADER_NAMES = (LIMIT_HEADER, USED_HEADER, REMAINING_HEADER)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def earliest_send_time(slots: list[float], now: float, limit: int, window: float) -> float:
    """The earliest time at or after `now` a request may be sent without breaking the limit.

    `slots` holds the sorted send times still inside the window (some may be reservations in
    the future). A request sent at `t` counts until `t + window`, so once `limit` slots are
    taken the next request goes when the `limit`-th most recent slot leaves the window.
    """
    # Never before the latest reservation: callers queue in order, and it keeps the check
    # below exact (every slot is then at or before the new one).
    start = max(now, slots[-1]) if slots else now
    if len(slots) >= limit:
        start = max(start, slots[len(slots) - limit] + window)
    return start


def _drop_expired(slots: list[float], now: float, window: float) -> None:
    del slots[: bisect.bisect_right(slots, now - window)]


def _add_phantoms(slots: list[float], now: float, count: int) -> None:
    # Requests spent by someone else: we do not know when, so assume just now, which keeps
    # them in the window longest (the safe side).
    for _ in range(count):
        bisect.insort(slots, now)


class RateLimitStore(Protocol):
    """Where a limiter keeps its send times; `transaction()` gives exclusive, atomic access."""

    def transaction(self) -> AbstractContextManager[list[float]]:
        """Yield the sorted send times; changes made to the list are saved when the block ends."""
        ...


class MemoryRateLimitStore:
    """Send times held in this process (the default store)."""

    def __init__(self) -> None:
        self._slots: list[float] = []

    @contextmanager
    def transaction(self) -> Iterator[list[float]]:
        """Yield the list itself; the limiter's lock already makes access exclusive."""
        yield self._slots


class SqliteRateLimitStore:
    """Send times kept in a small SQLite file so several processes share one budget.

    Every read-modify-write runs in a `BEGIN IMMEDIATE` transaction, so two processes cannot
    both take the last free slot. Times are wall-clock (`time.time`), the only clock processes
    share; a `RateLimiter` given this store uses `time.time` unless told otherwise.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves instead of the module's
        # implicit deferred transactions, which would let two writers read the same state.
        self._connection = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._connection.execute("CREATE TABLE IF NOT EXISTS request_slots (sent_at REAL NOT NULL)")

    @contextmanager
    def transaction(self) -> Iterator[list[float]]:
        """Lock the file, yield the stored send times, write back any change on success."""
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                rows = connection.execute("SELECT sent_at FROM request_slots ORDER BY sent_at")
                slots = [float(sent_at) for (sent_at,) in rows]
                original = list(slots)
                yield slots
                if slots != original:
                    connection.execute("DELETE FROM request_slots")
                    connection.executemany(
                        "INSERT INTO request_slots (sent_at) VALUES (?)", [(t,) for t in slots]
                    )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()

    def __repr__(self) -> str:
        return f"SqliteRateLimitStore({self.path!r})"


def credential_fingerprint(*parts: str) -> str:
    """A short, one-way hash of a credential, used as the key of `RateLimiter.shared`.

    Pass the token (or key and secret, plus the base URL if you use several servers); only the
    hash is kept, so the registry never holds a secret.
    """
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
    return digest[:16]


class RateLimiter:
    """Moving-window rate limiter: at most `max_requests` requests in any `window` seconds.

    `acquire()` (threads) and `await acquire_async()` (asyncio) return at once while budget
    remains, then wait exactly until the oldest request leaves the window. The wait is reserved
    under a lock before sleeping, so concurrent callers queue fairly and never overshoot.
    `update_from_headers()` and `on_throttled()` correct the budget from what Discogs reports.

    Args:
        max_requests: requests allowed per window (Discogs: 60 authenticated, 25 anonymous).
        window: window length in seconds.
        clock: returns the current time in seconds; defaults to `time.monotonic`, or `time.time`
            when a shared `store` is given (processes only agree on wall-clock time).
        store: where send times live; `SqliteRateLimitStore` shares them across processes.
        sleep: blocking sleep used by `acquire()`.
        async_sleep: awaitable sleep used by `acquire_async()`.
    """

    _shared: ClassVar[dict[str, RateLimiter]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        max_requests: int = 60,
        window: float = 60.0,
        *,
        clock: Callable[[], float] | None = None,
        store: RateLimitStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        margin: float = 0.0,
    ) -> None:
        if max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, got {max_requests}")
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}")
        if margin < 0:
            raise ValueError(f"margin must not be negative, got {margin}")
        self._limit = max_requests
        self.window = float(window)
        # A request reaches the server a little after we let it go (connection set-up, TLS,
        # latency), so the server's window lets it go later than ours: keep each send in our
        # window `margin` seconds longer than the rule says, so a slot we free is free there too.
        self.margin = float(margin)
        self._span = self.window + self.margin
        self._clock = clock or (time.monotonic if store is None else time.time)
        self._store: RateLimitStore = store if store is not None else MemoryRateLimitStore()
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._lock = threading.Lock()

    @classmethod
    def shared(
        cls,
        identity: str,
        max_requests: int = 60,
        window: float = 60.0,
        *,
        clock: Callable[[], float] | None = None,
        store: RateLimitStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        margin: float = 0.0,
    ) -> RateLimiter:
        """The one limiter of this process for a credential, created on first use.

        `identity` is a fingerprint of the credential (see `credential_fingerprint`), never the
        raw token. Every client built with the same credential gets the same limiter, so they
        share one budget; the settings of the first call win.
        """
        with cls._shared_lock:
            limiter = cls._shared.get(identity)
            if limiter is None:
                limiter = cls(
                    max_requests,
                    window,
                    clock=clock,
                    store=store,
                    sleep=sleep,
                    async_sleep=async_sleep,
                    margin=margin,
                )
                cls._shared[identity] = limiter
            return limiter

    @classmethod
    def reset_shared(cls) -> None:
        """Forget every shared limiter (tests, or after changing rate settings in-process)."""
        with cls._shared_lock:
            cls._shared.clear()

    @property
    def max_requests(self) -> int:
        """Requests allowed per window; follows `X-Discogs-Ratelimit` when the server differs."""
        return self._limit

    def reserve(self) -> float:
        """Take the next free slot and return how many seconds to wait before sending."""
        return self._reserve()[1]

    def acquire(self) -> float:
        """Block until a request may be sent; returns the seconds waited (0.0 within budget)."""
        slot, wait = self._reserve()
        if wait > 0:
            try:
                self._sleep(wait)
            except BaseException:
                self._release(slot)
                raise
        return wait

    async def acquire_async(self) -> float:
        """Wait (without blocking the event loop) until a request may be sent; returns the wait."""
        slot, wait = self._reserve()
        if wait > 0:
            try:
                await self._async_sleep(wait)
            except BaseException:  # cancelled while waiting: give the slot back
                self._release(slot)
                raise
        return wait

    def update_from_headers(self, headers: Mapping[str, str]) -> None:
        """Correct the budget from a response's `X-Discogs-Ratelimit*` headers.

        Adopts the server's limit when it differs, and when the server counts more requests than
        we sent (another program spending the same budget) records the difference, so our
        remaining budget never exceeds the server's.
        """
        reported = parse_rate_limit_headers(headers)
        if reported is None:
            return
        with self._locked_slots() as (slots, now):
            if reported.limit is not None and reported.limit > 0:
                self._limit = reported.limit
            server_used = reported.server_used(self._limit)
            if server_used is not None:
                sent = bisect.bisect_right(slots, now)
                _add_phantoms(slots, now, server_used - sent)

    def on_throttled(self) -> None:
        """Record a 429: the window is full, so the next request waits for a slot to free."""
        with self._locked_slots() as (slots, now):
            _add_phantoms(slots, now, self._limit - len(slots))

    def record_response(self, status_code: int, headers: Mapping[str, str]) -> None:
        """Learn from one response: its rate-limit headers, and a 429 as a full window."""
        self.update_from_headers(headers)
        if status_code == httpx.codes.TOO_MANY_REQUESTS:
            self.on_throttled()

    def status(self) -> RateLimitStatus:
        """The current budget: limit, used, remaining, window and seconds until a slot frees."""
        with self._locked_slots() as (slots, now):
            next_free = earliest_send_time(slots, now, self._limit, self._span)
            return RateLimitStatus(
                limit=self._limit,
                used=bisect.bisect_right(slots, now),
                remaining=max(0, self._limit - len(slots)),
                window=self.window,
                next_free_in=next_free - now,
            )

    def _reserve(self) -> tuple[float, float]:
        with self._locked_slots() as (slots, now):
            slot = earliest_send_time(slots, now, self._limit, self._span)
            bisect.insort(slots, slot)
            return slot, slot - now

    def _release(self, slot: float) -> None:
        with self._locked_slots() as (slots, _now):
            index = bisect.bisect_left(slots, slot)
            if index < len(slots) and slots[index] == slot:
                del slots[index]

    @contextmanager
    def _locked_slots(self) -> Iterator[tuple[list[float], float]]:
        with self._lock, self._store.transaction() as slots:
            now = self._clock()
            _drop_expired(slots, now, self._span)
            yield slots, now

    def __repr__(self) -> str:
        return f"RateLimiter(max_requests={self._limit}, window={self.window})"


class RateLimitTransport(httpx.BaseTransport):
    """Transport that waits for the rate limiter before each request and learns from responses.

    Place it below the retry transport so every attempt, retries included, spends budget.
    The seconds waited are recorded in `request.extensions["musicagent.rate_limit_wait"]`.
    """

    def __init__(self, inner: httpx.BaseTransport, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot, send, then update the budget from the response."""
        request.extensions[RATE_LIMIT_WAIT] = self.limiter.acquire()
        response = self.inner.handle_request(request)
        self.limiter.record_response(response.status_code, response.headers)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


class AsyncRateLimitTransport(httpx.AsyncBaseTransport):
    """Async twin of `RateLimitTransport`: waits for the limiter without blocking the loop."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot, send, then update the budget from the response."""
        request.extensions[RATE_LIMIT_WAIT] = await self.limiter.acquire_async()
        response = await self.inner.handle_async_request(request)
        self.limiter.record_response(response.status_code, response.headers)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()
