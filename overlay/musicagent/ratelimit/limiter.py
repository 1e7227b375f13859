"""`RateLimiter`: reserve a slot in the moving window, wait for it, learn from every response."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import anyio
import anyio.to_thread
import httpx

from musicagent.auth import credential_fingerprint
from musicagent.ratelimit.headers import parse_rate_limit_headers
from musicagent.ratelimit.stores import MemoryRateLimitStore, RateLimitStore, Reservation

__all__ = ["Admission", "RateLimitStatus", "RateLimiter", "credential_fingerprint"]


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


@dataclass(frozen=True, slots=True)
class Admission:
    """One attempt let go by `RateLimiter.admit`: its reservation and what checks its response.

    Hand it back to `RateLimiter.record_response` with the attempt's response: when the
    response's count is one the window already holds, the store is not opened again.

    Attributes:
        reservation: the slot the store granted.
        limit: the limit it was granted under.
        began: `time.monotonic()` just before the store was asked.
    """

    reservation: Reservation
    limit: int
    began: float

    @property
    def wait(self) -> float:
        """Seconds waited before sending (0.0 within budget)."""
        return self.reservation.wait


class RateLimiter:
    """Moving-window rate limiter: at most `max_requests` requests in any `window` seconds.

    `acquire()` (threads) and `await acquire_async()` (asyncio) return at once while budget
    remains, then wait exactly until the oldest request leaves the window. The wait is reserved
    atomically before sleeping, so concurrent callers queue fairly and never overshoot.
    `record_response()` corrects the budget from what Discogs reports; the values it reports
    are clamped, so no header can make the limiter do more than a fixed amount of work.

    One store transaction per attempt: `admit()` reserves (and, for the response, notes what of
    the window is sure to count while the request is under way); `record_response(...,
    admission)` opens the store again only when the response says something the window does
    not already hold — a lower limit, more requests counted than it holds, or a 429.

    Args:
        max_requests: requests allowed per window (Discogs: 60 authenticated, 25 anonymous).
            The server may lower it through `X-Discogs-Ratelimit`, never raise it above this.
        window: window length in seconds.
        clock: returns the current time in seconds; defaults to `time.monotonic`, or `time.time`
            when a shared `store` is given (processes only agree on wall-clock time; the Redis
            store uses the Redis server's clock instead).
        store: where the window lives; `SqliteRateLimitStore` shares it between processes,
            `RedisRateLimitStore` between machines.
        sleep: blocking sleep used by `acquire()`.
        async_sleep: awaitable sleep used by `acquire_async()`.
        margin: seconds each request stays in our window beyond `window` (see below).
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
        self._ceiling = max_requests
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
        """The one limiter of this process for a credential (or a named budget), made on first use.

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
        """Requests allowed per window; follows a lower `X-Discogs-Ratelimit` from the server."""
        return self._limit

    @property
    def store(self) -> RateLimitStore:
        """Where this limiter's window lives."""
        return self._store

    def reserve(self) -> float:
        """Take the next free slot and return how many seconds to wait before sending."""
        return self._reserve().wait

    def acquire(self) -> float:
        """Block until a request may be sent; returns the seconds waited (0.0 within budget)."""
        return self.admit().wait

    async def acquire_async(self) -> float:
        """Wait (without blocking the event loop) until a request may be sent; returns the wait."""
        return (await self.admit_async()).wait

    def admit(self) -> Admission:
        """Block until a request may be sent; the admission to hand to `record_response`."""
        began = time.monotonic()
        limit = self._limit
        reservation = self._store.reserve(self._clock, limit, self._span)
        if reservation.wait > 0:
            try:
                self._sleep(reservation.wait)
            except BaseException:
                self._store.release(reservation)
                raise
        return Admission(reservation, limit, began)

    async def admit_async(self) -> Admission:
        """`admit` without blocking the event loop."""
        began = time.monotonic()
        limit = self._limit
        if getattr(self._store, "offload", False):
            # A store across the network (Redis): its round trip, or its connect timeout when
            # the server is gone, must not hold every other task of the loop.
            reservation = await anyio.to_thread.run_sync(
                self._store.reserve, self._clock, limit, self._span
            )
        else:
            reservation = self._store.reserve(self._clock, limit, self._span)
        if reservation.wait > 0:
            try:
                await self._async_sleep(reservation.wait)
            except BaseException:  # cancelled while waiting: give the slot back
                self._store.release(reservation)
                raise
        return Admission(reservation, limit, began)

    def update_from_headers(
        self, headers: Mapping[str, str], admission: Admission | None = None
    ) -> None:
        """Correct the budget from a response's `X-Discogs-Ratelimit*` headers.

        Adopts a lower limit from the server, and when the server counts more requests than
        we sent (another program spending the same budget) records the difference, so our
        remaining budget never exceeds the server's. Values are clamped to `[0, limit]`.
        With the `admission` of the attempt that got the response, a count the window is
        sure to hold already (see `Admission`) needs no store transaction.
        """
        reported = parse_rate_limit_headers(headers)
        if reported is None:
            return
        adopted = reported.limit_within(self._ceiling)
        if adopted is not None:
            self._limit = adopted
        limit = self._limit
        server_used = reported.server_used(limit)
        if server_used is None:
            return
        if admission is not None and server_used <= self._held(admission, limit):
            return
        self._store.correct(self._clock, limit, self._span, server_used)

    def on_throttled(self) -> None:
        """Record a 429: the window is full, so the next request waits for a slot to free."""
        self._store.fill(self._clock, self._limit, self._span)

    def record_response(
        self, status_code: int, headers: Mapping[str, str], admission: Admission | None = None
    ) -> None:
        """Learn from one response: its rate-limit headers, and a 429 as a full window.

        `admission` is the attempt's, from `admit`: with it, a response that tells the window
        nothing new costs no store transaction.
        """
        self.update_from_headers(headers, admission)
        if status_code == httpx.codes.TOO_MANY_REQUESTS:
            self.on_throttled()

    def _held(self, admission: Admission, limit: int) -> int:
        """Units the window surely still counts as sent now, by what the reservation said (0:
        nothing is sure, so the store must be asked)."""
        reservation = admission.reservation
        if (
            not reservation.held
            or limit != admission.limit
            or getattr(self._store, "epoch", 0) != reservation.epoch
        ):
            return 0
        # The store's time now: its time at the reservation plus what passed since (read
        # before asking it, so never less), and no earlier than our own clock when the store
        # reads that one (a clock stepped forward ages the window sooner).
        now = reservation.now + (time.monotonic() - admission.began)
        if not reservation.store_clock:
            local = self._clock()
            if local < reservation.slot:
                # A clock stepped back: the slot is not "sent" in the store's eyes yet.
                return 0
            now = max(now, local)
        for until, units in reservation.held:
            if now < until:
                return units
        return 0

    def status(self) -> RateLimitStatus:
        """The current budget: limit, used, remaining, window and seconds until a slot frees."""
        limit = self._limit
        window = self._store.snapshot(self._clock, limit, self._span)
        return RateLimitStatus(
            limit=limit,
            used=window.used,
            remaining=max(0, limit - window.units),
            window=self.window,
            next_free_in=window.next_free_in,
        )

    def _reserve(self) -> Reservation:
        return self._store.reserve(self._clock, self._limit, self._span)

    def __repr__(self) -> str:
        return f"RateLimiter(max_requests={self._limit}, window={self.window})"
