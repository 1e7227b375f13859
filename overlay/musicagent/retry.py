"""When a Discogs request is sent again, how long to wait first, and the circuit breaker.

The request loop (`musicagent.request_loop`) asks these pure functions after every attempt:
429, 500, 502, 503 and 504 responses and connect/read errors and timeouts are retried, honouring
`Retry-After` and otherwise waiting with exponential backoff and full jitter, within a bound on
attempts and on total time. A request that is not replay-safe (a POST creating a listing, say;
the spec's `x-musicagent-replay-safe`) is sent again only when the failure shows the server did
not apply it (a 429 or a failed connection) unless `RetryPolicy(retry_non_idempotent=True)`.
When attempts run out the caller gets the last response (e.g. the final 429, raised as its typed
error) or the last network error.

`CircuitBreaker` stops hammering a failing server: after N consecutive failed calls it fails fast
with `CircuitOpenError` until `reset_timeout` has passed, then lets one trial call through.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx

from musicagent.errors import CircuitOpenError, NetworkCircuitOpenError

__all__ = [
    "CircuitBreaker",
    "RetryPolicy",
    "backoff_seconds",
    "retry_after_seconds",
    "retry_wait_seconds",
    "should_retry",
]

logger = logging.getLogger("musicagent.retry")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that can be repeated after any failure: they change nothing on the server."""

NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
"""Failures that happen before the request leaves the client, so replaying cannot duplicate it."""

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
"""Network failures worth retrying for a safe request (connect, read, write, timeouts, resets)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many times, how long and on what a request is retried.

    Attributes:
        max_attempts: attempts in total, the first one included.
        backoff_factor: base of the exponential backoff: attempt n waits up to
            `backoff_factor * 2 ** (n - 1)` seconds (full jitter picks uniformly below that).
        max_backoff: the backoff never exceeds this many seconds.
        max_total_time: no retry is started that would end after this many seconds in total.
        retry_statuses: response statuses that are retried.
        retry_non_idempotent: also replay POST/PUT/PATCH/DELETE after failures that may have
            reached the server (a 5xx, a read timeout). Off by default: it can apply a change twice.
        max_retry_after: a server's `Retry-After` is honoured up to this many seconds.
        throttled_wait: wait before retrying a 429 that came without `Retry-After`.
    """

    max_attempts: int = 5
    backoff_factor: float = 1.0
    max_backoff: float = 30.0
    max_total_time: float = 300.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    retry_non_idempotent: bool = False
    max_retry_after: float = 120.0
    # Short on purpose: the rate limiter below the retry transport treats a 429 as a full
    # window, so the next attempt already waits there until a slot frees. A long backoff here
    # would only add dead time on top of that wait.
    throttled_wait: float = 1.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")


def should_retry(
    method: str,
    outcome: int | BaseException,
    policy: RetryPolicy,
    *,
    replay_safe: bool | None = None,
) -> bool:
    """Whether a request that ended with this status code or exception should be sent again.

    A replay-safe request (by default GET and HEAD; an operation's `replay_safe` when given)
    retries on every status in `policy.retry_statuses` and on connect/read errors, timeouts and
    broken connections. Others are replayed only when the failure proves the request was not
    applied (a 429, or a connection that was never made), unless `policy.retry_non_idempotent`.
    """
    safe = method.upper() in SAFE_METHODS if replay_safe is None else replay_safe
    replay_anything = safe or policy.retry_non_idempotent
    if isinstance(outcome, int):
        if outcome not in policy.retry_statuses:
            return False
        return replay_anything or outcome == httpx.codes.TOO_MANY_REQUESTS
    if isinstance(outcome, NOT_SENT_ERRORS):
        return True
    return replay_anything and isinstance(outcome, TRANSIENT_ERRORS)


_DELAY_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def retry_after_seconds(
    headers: Mapping[str, str], now: float, *, cap: float = RetryPolicy.max_retry_after
) -> float | None:
    """Seconds to wait according to a `Retry-After` header, or None if absent or unreadable.

    Accepts both forms of the header, a number of seconds (`120`) and an HTTP date
    (`Wed, 21 Oct 2015 07:28:00 GMT`, compared with `now`, Unix time in seconds). The result is
    at least 0 and at most `cap`.
    """
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    if _DELAY_SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT; the parser leaves "-0000" naive
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    return min(max(seconds, 0.0), cap)


def backoff_seconds(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with full jitter after failed attempt number `attempt` (from 1).

    Uniform between 0 and `min(max_backoff, backoff_factor * 2 ** (attempt - 1))`: the
    randomness keeps many clients that failed together from retrying together.
    """
    # The exponent is capped only so that a huge attempt number cannot overflow a float.
    ceiling = min(policy.max_backoff, policy.backoff_factor * 2 ** min(attempt - 1, 64))
    return rng.uniform(0.0, ceiling)


def retry_wait_seconds(
    outcome: httpx.Response | BaseException,
    attempt: int,
    policy: RetryPolicy,
    *,
    now: float,
    rng: random.Random,
) -> float:
    """How long to wait before the next attempt.

    The server's `Retry-After` when it sent one; for a 429 without it, `policy.throttled_wait`
    (the rate limiter does the real waiting); otherwise `backoff_seconds`.
    """
    if isinstance(outcome, httpx.Response):
        retry_after = retry_after_seconds(outcome.headers, now, cap=policy.max_retry_after)
        if retry_after is not None:
            return retry_after
        if outcome.status_code == httpx.codes.TOO_MANY_REQUESTS:
            return policy.throttled_wait
    return backoff_seconds(attempt, policy, rng)


CircuitState = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """Fails fast after repeated failures, so a broken server is not hammered.

    After `failure_threshold` consecutive failed calls (a 5xx or a network error once retries are
    used up) the circuit opens: calls raise `CircuitOpenError` at once, saying when the next try
    will be. After `reset_timeout` seconds it is half-open: one trial call goes through; success
    closes the circuit, failure opens it again. Thread-safe; share one per client.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._last_failure = ""
        self._last_failure_was_network = False

    @property
    def state(self) -> CircuitState:
        """`closed` (calls go through), `open` (calls fail fast) or `half-open` (trial allowed)."""
        with self._lock:
            return self._state(self._clock())

    def before_call(self, method: str | None = None, url: str | httpx.URL | None = None) -> None:
        """Let a call through, or raise `CircuitOpenError` if the circuit is open."""
        if self._opened_at is None:
            # Closed: nothing to decide or change, so no lock (a failure recorded at this very
            # moment by another call counts as if it came just after).
            return
        with self._lock:
            now = self._clock()
            state = self._state(now)
            if state == "closed":
                return
            if state == "half-open" and not self._trial_running:
                self._trial_running = True
                return
            raise self._open_error(now, method, url)

    def record_success(self) -> None:
        """A call got an answer from the server: close the circuit."""
        if not self._failures and self._opened_at is None and not self._trial_running:
            return  # already closed and clean: the common case takes no lock
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self, description: str, *, network: bool) -> None:
        """A call failed (5xx or network error): count it and open the circuit at the threshold."""
        with self._lock:
            self._failures += 1
            self._last_failure = description
            self._last_failure_was_network = network
            if self._trial_running or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._trial_running = False

    def record_neutral(self) -> None:
        """A call ended without telling whether the server is healthy (e.g. it was cancelled)."""
        with self._lock:
            self._trial_running = False

    def _state(self, now: float) -> CircuitState:
        if self._opened_at is None:
            return "closed"
        return "half-open" if now >= self._opened_at + self.reset_timeout else "open"

    def _open_error(
        self, now: float, method: str | None, url: str | httpx.URL | None
    ) -> CircuitOpenError:
        assert self._opened_at is not None
        retry_in = max(0.0, self._opened_at + self.reset_timeout - now)
        kind = "network errors" if self._last_failure_was_network else "server errors"
        when = f"will try again in {retry_in:.1f} s" if retry_in else "a trial call is running"
        message = (
            f"Circuit open after {self._failures} consecutive {kind} "
            f"(last: {self._last_failure}); {when}"
        )
        error_class = (
            NetworkCircuitOpenError if self._last_failure_was_network else CircuitOpenError
        )
        return error_class(
            message,
            retry_at=datetime.now(UTC) + timedelta(seconds=retry_in),
            retry_in=retry_in,
            method=method,
            url=url,
        )

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, failures={self._failures})"
