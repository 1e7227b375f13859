"""Retries for Discogs requests, as an httpx transport driven by tenacity, plus a circuit breaker.

`RetryTransport` retries 429, 500, 502, 503 and 504 responses and connect/read errors and
timeouts, honouring `Retry-After` and otherwise waiting with exponential backoff and full jitter,
within a bound on attempts and on total time. A POST, PUT, PATCH or DELETE is replayed only when
the failure shows the server did not apply it (a 429 or a failed connection) unless
`RetryPolicy(retry_non_idempotent=True)`. When attempts run out the caller gets the last response
(e.g. the final 429) or the last network exception, never a tenacity wrapper.

`CircuitBreaker` stops hammering a failing server: after N consecutive failed calls it fails fast
with `CircuitOpenError` until `reset_timeout` has passed, then lets one trial call through.

    transport = RetryTransport(RateLimitTransport(httpx.HTTPTransport(), limiter), RetryPolicy())
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import httpx
from tenacity import AsyncRetrying, RetryCallState, Retrying

from musicagent import extensions
from musicagent.errors import CircuitOpenError, NetworkCircuitOpenError
from musicagent.masking import known_secrets, mask_text, mask_url

__all__ = [
    "AsyncRetryTransport",
    "CircuitBreaker",
    "RetryPolicy",
    "RetryTransport",
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


def should_retry(method: str, outcome: int | BaseException, policy: RetryPolicy) -> bool:
    """Whether a request that ended with this status code or exception should be sent again.

    GET and HEAD retry on every status in `policy.retry_statuses` and on connect/read errors,
    timeouts and broken connections. Other methods are replayed only when the failure proves the
    request was not applied (a 429, or a connection that was never made), unless
    `policy.retry_non_idempotent` is set.
    """
    replay_anything = method.upper() in SAFE_METHODS or policy.retry_non_idempotent
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


class _RetryCore:
    """What the sync and async retry transports share: decisions, waits, logging, the breaker."""

    def __init__(
        self,
        policy: RetryPolicy,
        breaker: CircuitBreaker | None,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.policy = policy
        self.breaker = breaker
        self.clock = clock
        self.wall_clock = wall_clock
        self.rng = rng

    def tenacity_options(self) -> dict[str, Any]:
        """Arguments for `Retrying` / `AsyncRetrying`, with a fresh total-time budget."""
        started = self.clock()
        policy = self.policy

        def out_of_budget(state: RetryCallState) -> bool:
            elapsed = self.clock() - started
            return (
                state.attempt_number >= policy.max_attempts
                or elapsed + state.upcoming_sleep > policy.max_total_time
            )

        return {
            "retry": self.wants_retry,
            "wait": self.wait,
            "stop": out_of_budget,
            "before": _mark_attempt,
            # Attempts exhausted: hand back the last response (a caller sees a normal 429/503
            # and raises its typed error) or re-raise the last network error.
            "retry_error_callback": lambda state: _outcome(state, raise_error=True),
        }

    def wants_retry(self, state: RetryCallState) -> bool:
        request = _request_of(state)
        outcome = _outcome(state)
        status = outcome.status_code if isinstance(outcome, httpx.Response) else outcome
        return should_retry(request.method, status, self.policy)

    def wait(self, state: RetryCallState) -> float:
        now = self.wall_clock()
        outcome = _outcome(state)
        return retry_wait_seconds(outcome, state.attempt_number, self.policy, now=now, rng=self.rng)

    def must_buffer(self, request: httpx.Request, response: httpx.Response) -> bool:
        """Whether to read this response's body inside the attempt.

        A response that may be retried is read to free its connection. The body of an
        operation's response is read here too: a connection reset or a body cut short then
        fails this attempt and is retried like any other network error, instead of surfacing
        after the retry loop has returned. Raw streaming through `client.http` stays lazy.
        """
        return extensions.OPERATION_ID in request.extensions or should_retry(
            request.method, response.status_code, self.policy
        )

    def log_retry(self, state: RetryCallState) -> httpx.Response | None:
        """Log one retry; return the discarded response, which the shell closes if still open."""
        request = _request_of(state)
        outcome = _outcome(state)
        if isinstance(outcome, httpx.Response):
            status: int | None = outcome.status_code
            what = f"{status} {outcome.reason_phrase}".rstrip()
            level = logging.INFO if status == httpx.codes.TOO_MANY_REQUESTS else logging.WARNING
        else:
            status, level = None, logging.WARNING
            what = mask_text(f"{type(outcome).__name__}: {outcome}", known_secrets())
        url = mask_url(request.url)
        logger.log(
            level,
            "Retrying %s %s after %s (attempt %d of %d) in %.2f s",
            request.method,
            url,
            what,
            state.attempt_number,
            self.policy.max_attempts,
            state.upcoming_sleep,
            extra={
                "method": request.method,
                "url": url,
                "status": status,
                "error": None if status is not None else type(outcome).__name__,
                "attempt": state.attempt_number,
                "wait": state.upcoming_sleep,
                "correlation_id": request.extensions.get(extensions.CORRELATION_ID),
            },
        )
        return outcome if isinstance(outcome, httpx.Response) else None

    def before_call(self, request: httpx.Request) -> None:
        if self.breaker is not None:
            self.breaker.before_call(request.method, request.url)

    def after_call(self, outcome: httpx.Response | BaseException) -> None:
        """Tell the breaker how the logical call (all attempts) ended."""
        breaker = self.breaker
        if breaker is None:
            return
        if isinstance(outcome, httpx.Response):
            if outcome.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
                reason = f"{outcome.status_code} {outcome.reason_phrase}".rstrip()
                breaker.record_failure(reason, network=False)
            else:
                breaker.record_success()
        elif isinstance(outcome, httpx.TransportError):
            detail = mask_text(f"{type(outcome).__name__}: {outcome}", known_secrets())
            breaker.record_failure(detail, network=True)
        else:
            breaker.record_neutral()


def _request_of(state: RetryCallState) -> httpx.Request:
    return cast(httpx.Request, state.args[0])


def _outcome(state: RetryCallState, *, raise_error: bool = False) -> httpx.Response | BaseException:
    future = state.outcome
    assert future is not None, "tenacity calls this only after an attempt"
    if future.failed:
        error = cast(BaseException, future.exception())
        if raise_error:
            raise error
        return error
    return cast(httpx.Response, future.result())


def _mark_attempt(state: RetryCallState) -> None:
    # Retries reuse the request object, so inner transports (auth, logging) read the attempt here.
    _request_of(state).extensions[extensions.ATTEMPT] = state.attempt_number


class RetryTransport(httpx.BaseTransport):
    """Transport that retries failed requests (429, 5xx, network errors) with tenacity.

    Args:
        inner: the transport that sends each attempt (usually the rate-limit transport).
        policy: attempts, backoff and what is retried; `RetryPolicy()` by default.
        sleep: blocking sleep between attempts.
        breaker: optional `CircuitBreaker` shared by the client's transports.
        clock: monotonic clock for the total-time budget.
        wall_clock: Unix time, to read `Retry-After` dates.
        rng: random source of the jitter.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self._core = _RetryCore(
            policy or RetryPolicy(), breaker, clock, wall_clock, rng or random.Random()
        )
        self._sleep = sleep

    @property
    def policy(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._core.policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request, retrying per the policy; return the final response."""
        self._core.before_call(request)
        retrying = Retrying(
            sleep=self._sleep, before_sleep=self._before_sleep, **self._core.tenacity_options()
        )
        try:
            response: httpx.Response = retrying(self._attempt, request)
        except BaseException as exc:
            self._core.after_call(exc)
            raise
        self._core.after_call(response)
        return response

    def _attempt(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self._core.must_buffer(request, response):
            try:
                response.read()
            except BaseException:
                response.close()
                raise
        return response

    def _before_sleep(self, state: RetryCallState) -> None:
        discarded = self._core.log_retry(state)
        if discarded is not None and not discarded.is_closed:
            discarded.close()

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """Async twin of `RetryTransport`, using tenacity's `AsyncRetrying` and an async sleep."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self._core = _RetryCore(
            policy or RetryPolicy(), breaker, clock, wall_clock, rng or random.Random()
        )
        # None keeps tenacity's own sleep, which also works under trio.
        self._sleep_option: dict[str, Any] = {} if sleep is None else {"sleep": sleep}

    @property
    def policy(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._core.policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request, retrying per the policy; return the final response."""
        self._core.before_call(request)
        options = self._core.tenacity_options() | self._sleep_option
        retrying = AsyncRetrying(before_sleep=self._before_sleep, **options)
        try:
            response: httpx.Response = await retrying(self._attempt, request)
        except BaseException as exc:
            self._core.after_call(exc)
            raise
        self._core.after_call(response)
        return response

    async def _attempt(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self._core.must_buffer(request, response):
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
        return response

    async def _before_sleep(self, state: RetryCallState) -> None:
        discarded = self._core.log_retry(state)
        if discarded is not None and not discarded.is_closed:
            await discarded.aclose()

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()
