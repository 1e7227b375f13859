"""Retry decisions, waits, the request loop's retries (sync and async) and the circuit breaker.

Every loop test runs twice, through `run_sync` and through `run_async`, on a fake clock whose
sleeps are recorded: tests assert attempts and computed waits, never durations.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from musicagent.errors import CircuitOpenError, NetworkError, ServerError
from musicagent.ratelimit import RateLimiter
from musicagent.request_loop import AsyncIO, LoopSettings, SyncIO, call_flow, run_async, run_sync
from musicagent.retry import (
    CircuitBreaker,
    RetryPolicy,
    backoff_seconds,
    retry_after_seconds,
    retry_wait_seconds,
    should_retry,
)
from musicagent.stats import ClientStats
from musicagent.wire import AsyncWireTransport, WireRules, WireTransport

EPOCH = 1_700_000_000.0
TOKEN = "s3cr3t-personal-token-value"
URL = "https://api.discogs.com/releases/249504"


class FakeClock:
    """Monotonic time that moves only when a fake sleep is taken; sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class HighestJitter(random.Random):
    """Full jitter that always picks the top of its range, so waits are predictable."""

    def uniform(self, a: float, b: float) -> float:
        return b


Step = int | tuple[int, dict[str, str]] | Exception


class Server:
    """A scripted server: each request consumes the next step (a status or an exception)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []
        self.attempts: list[object] = []
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.attempts.append(request.extensions.get("musicagent.attempt"))
        self.bodies.append(request.read())
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        status, headers = step if isinstance(step, tuple) else (step, {})
        return httpx.Response(status, headers=headers, json={"message": f"status {status}"})


class Harness:
    """Sends one request through the sync or the async retry stack."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.clock = FakeClock()

    def send(
        self,
        server: Server,
        *,
        method: str = "GET",
        url: str = URL,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        limiter: RateLimiter | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        policy = policy or RetryPolicy()
        clock = self.clock
        loop = LoopSettings(
            policy, breaker, ClientStats(), clock=clock, wall_clock=clock.wall, rng=HighestJitter()
        )
        rules = WireRules(
            limiter=limiter, stats=ClientStats(), total_timeout=None, max_response_bytes=1 << 20
        )
        if self.mode == "sync":
            with httpx.Client(
                transport=WireTransport(httpx.MockTransport(server), rules)
            ) as client:
                request = client.build_request(method, url, content=content)
                io = SyncIO(client, max_response_bytes=1 << 20, sleep=clock.sleep)
                return run_sync(call_flow(loop, request), io.perform)

        async def send_async() -> httpx.Response:
            transport = AsyncWireTransport(httpx.MockTransport(server), rules)
            async with httpx.AsyncClient(transport=transport) as client:
                request = client.build_request(method, url, content=content)
                aio = AsyncIO(client, max_response_bytes=1 << 20, sleep=clock.async_sleep)
                return await run_async(call_flow(loop, request), aio.perform)

        return asyncio.run(send_async())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sync", "async"])
def harness(request: pytest.FixtureRequest) -> Harness:
    return Harness(request.param)


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("[Errno 111] Connection refused")


def read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out")


# --- pure decisions ------------------------------------------------------------------------

DEFAULT = RetryPolicy()
OPT_IN = RetryPolicy(retry_non_idempotent=True)


@pytest.mark.parametrize(
    ("method", "outcome", "policy", "expected"),
    [
        ("GET", 429, DEFAULT, True),
        ("GET", 500, DEFAULT, True),
        ("GET", 502, DEFAULT, True),
        ("GET", 503, DEFAULT, True),
        ("GET", 504, DEFAULT, True),
        ("GET", 404, DEFAULT, False),
        ("GET", 501, DEFAULT, False),
        ("HEAD", 503, DEFAULT, True),
        ("get", 503, DEFAULT, True),
        ("GET", httpx.ConnectError("refused"), DEFAULT, True),
        ("GET", httpx.ConnectTimeout("slow"), DEFAULT, True),
        ("GET", httpx.ReadTimeout("slow"), DEFAULT, True),
        ("GET", httpx.ReadError("reset"), DEFAULT, True),
        ("GET", httpx.RemoteProtocolError("closed"), DEFAULT, True),
        ("GET", ValueError("not a network problem"), DEFAULT, False),
        ("POST", 429, DEFAULT, True),
        ("POST", 503, DEFAULT, False),
        ("PUT", 500, DEFAULT, False),
        ("DELETE", 502, DEFAULT, False),
        ("PATCH", 504, DEFAULT, False),
        ("POST", httpx.ConnectError("refused"), DEFAULT, True),
        ("POST", httpx.ConnectTimeout("slow"), DEFAULT, True),
        ("POST", httpx.PoolTimeout("pool full"), DEFAULT, True),
        ("POST", httpx.ReadTimeout("slow"), DEFAULT, False),
        ("DELETE", httpx.RemoteProtocolError("closed"), DEFAULT, False),
        ("POST", 503, OPT_IN, True),
        ("DELETE", httpx.ReadTimeout("slow"), OPT_IN, True),
        ("POST", 404, OPT_IN, False),
        ("GET", 503, RetryPolicy(retry_statuses=frozenset({429})), False),
    ],
)
def test_should_retry_decides_by_method_and_failure(
    method: str, outcome: int | Exception, policy: RetryPolicy, expected: bool
) -> None:
    assert should_retry(method, outcome, policy) is expected


def test_retry_after_in_seconds() -> None:
    assert retry_after_seconds({"Retry-After": "7"}, now=EPOCH) == 7.0
    assert retry_after_seconds({"retry-after": " 2 "}, now=EPOCH) == 2.0


def test_retry_after_as_http_date_is_measured_from_now() -> None:
    date = format_datetime(datetime.fromtimestamp(EPOCH + 30, UTC), usegmt=True)

    assert retry_after_seconds({"Retry-After": date}, now=EPOCH) == 30.0


def test_retry_after_in_the_past_means_no_wait() -> None:
    date = format_datetime(datetime.fromtimestamp(EPOCH - 30, UTC), usegmt=True)

    assert retry_after_seconds({"Retry-After": date}, now=EPOCH) == 0.0


def test_retry_after_is_capped() -> None:
    assert retry_after_seconds({"Retry-After": "86400"}, now=EPOCH, cap=120.0) == 120.0


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "soon"}, {"Retry-After": "-5"}])
def test_missing_or_unreadable_retry_after_is_none(headers: dict[str, str]) -> None:
    assert retry_after_seconds(headers, now=EPOCH) is None


def test_backoff_doubles_up_to_the_maximum() -> None:
    policy = RetryPolicy(backoff_factor=1.0, max_backoff=30.0)

    ceilings = [backoff_seconds(n, policy, HighestJitter()) for n in range(1, 8)]

    assert ceilings == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_backoff_stays_at_the_maximum_for_very_late_attempts() -> None:
    assert backoff_seconds(5000, RetryPolicy(max_backoff=30.0), HighestJitter()) == 30.0


def test_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_backoff_uses_full_jitter_between_zero_and_the_ceiling() -> None:
    policy = RetryPolicy(backoff_factor=0.5)
    rng = random.Random(1234)

    waits = [backoff_seconds(4, policy, rng) for _ in range(200)]

    assert all(0.0 <= wait <= 4.0 for wait in waits)
    assert min(waits) < 1.0 < 3.0 < max(waits)  # spread over the range, not clustered at the top


def test_wait_prefers_retry_after_then_throttled_wait_then_backoff() -> None:
    policy = RetryPolicy(throttled_wait=1.5)
    rng = HighestJitter()

    def wait(outcome: httpx.Response | Exception, attempt: int = 3) -> float:
        return retry_wait_seconds(outcome, attempt, policy, now=EPOCH, rng=rng)

    assert wait(httpx.Response(503, headers={"Retry-After": "9"})) == 9.0
    assert wait(httpx.Response(429)) == 1.5
    assert wait(httpx.Response(503)) == 4.0
    assert wait(read_timeout()) == 4.0


# --- the transports ------------------------------------------------------------------------


def test_429_with_retry_after_seconds_is_retried_after_that_wait(harness: Harness) -> None:
    server = Server((429, {"Retry-After": "2"}), 200)

    response = harness.send(server)

    assert response.status_code == 200
    assert len(server.requests) == 2
    assert harness.clock.sleeps == [2.0]


def test_429_with_retry_after_date_is_retried_at_that_time(harness: Harness) -> None:
    date = format_datetime(datetime.fromtimestamp(EPOCH + 30, UTC), usegmt=True)
    server = Server((429, {"Retry-After": date}), 200)

    response = harness.send(server)

    assert response.status_code == 200
    assert harness.clock.sleeps == [30.0]


def test_503_is_retried_with_backoff(harness: Harness) -> None:
    server = Server(503, 503, 200)

    response = harness.send(server)

    assert response.status_code == 200
    assert harness.clock.sleeps == [1.0, 2.0]
    assert server.attempts == [1, 2, 3]


def test_connect_error_is_retried(harness: Harness) -> None:
    server = Server(connect_error(), 200)

    assert harness.send(server).status_code == 200
    assert len(server.requests) == 2


def test_read_timeout_is_retried_for_get(harness: Harness) -> None:
    server = Server(read_timeout(), 200)

    assert harness.send(server).status_code == 200
    assert len(server.requests) == 2


def test_non_retryable_status_is_returned_at_once(harness: Harness) -> None:
    server = Server(404)

    assert harness.send(server).status_code == 404
    assert harness.clock.sleeps == []


def test_exhausted_429s_return_the_last_429_response(harness: Harness) -> None:
    server = Server(*[(429, {"Retry-After": "1"})] * 5)

    response = harness.send(server)

    assert response.status_code == 429
    assert response.json() == {"message": "status 429"}  # body buffered, still readable
    assert len(server.requests) == 5
    assert harness.clock.sleeps == [1.0] * 4


def test_exhausted_network_errors_reraise_the_last_exception(harness: Harness) -> None:
    errors = [connect_error() for _ in range(3)]
    server = Server(*errors)

    with pytest.raises(NetworkError, match="ConnectError") as caught:
        harness.send(server, policy=RetryPolicy(max_attempts=3))

    assert caught.value.__cause__ is errors[-1]
    assert len(server.requests) == 3


def test_post_is_not_replayed_after_503(harness: Harness) -> None:
    server = Server(503)

    response = harness.send(server, method="POST", content=b'{"name": "Crates"}')

    assert response.status_code == 503
    assert len(server.requests) == 1


def test_post_is_not_replayed_after_read_timeout(harness: Harness) -> None:
    server = Server(read_timeout())

    with pytest.raises(NetworkError, match="ReadTimeout"):
        harness.send(server, method="POST", content=b"{}")

    assert len(server.requests) == 1


def test_post_is_replayed_after_429_with_the_same_body(harness: Harness) -> None:
    server = Server((429, {"Retry-After": "1"}), 201)

    response = harness.send(server, method="POST", content=b'{"name": "Crates"}')

    assert response.status_code == 201
    assert server.bodies == [b'{"name": "Crates"}'] * 2


def test_post_is_replayed_after_connect_error(harness: Harness) -> None:
    server = Server(connect_error(), 201)

    assert harness.send(server, method="POST", content=b"{}").status_code == 201
    assert len(server.requests) == 2


def test_post_is_replayed_after_503_when_the_caller_opts_in(harness: Harness) -> None:
    server = Server(503, read_timeout(), 201)

    response = harness.send(server, method="POST", content=b"{}", policy=OPT_IN)

    assert response.status_code == 201
    assert len(server.requests) == 3


def test_retries_stop_before_the_total_time_budget_is_exceeded(harness: Harness) -> None:
    server = Server(*[503] * 10)
    policy = RetryPolicy(max_attempts=10, max_total_time=10.0)

    response = harness.send(server, policy=policy)

    # Waits 1 + 2 + 4 = 7 s; the next wait of 8 s would end at 15 s, past the 10 s budget.
    assert response.status_code == 503
    assert harness.clock.sleeps == [1.0, 2.0, 4.0]
    assert len(server.requests) == 4


def test_retry_after_beyond_the_total_budget_is_not_waited_for(harness: Harness) -> None:
    server = Server((429, {"Retry-After": "90"}))

    response = harness.send(server, policy=RetryPolicy(max_total_time=60.0))

    assert response.status_code == 429
    assert harness.clock.sleeps == []


def test_429_is_retried_after_window_frees(harness: Harness) -> None:
    limiter = RateLimiter(
        5,
        10.0,
        clock=harness.clock,
        sleep=harness.clock.sleep,
        async_sleep=harness.clock.async_sleep,
    )
    server = Server(429, 200)

    response = harness.send(server, limiter=limiter)

    # The retry waits its short throttled wait (1 s); the limiter, told the window is full,
    # holds the second attempt until the first request's slot frees at 10 s.
    assert response.status_code == 200
    assert harness.clock.sleeps == [1.0, 9.0]
    assert harness.clock.now == 10.0


def test_each_retry_is_logged_with_masked_url(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server(503, connect_error(), 200)
    caplog.set_level(logging.INFO, logger="musicagent.retry")

    harness.send(server, url=f"{URL}?token={TOKEN}")

    records = [r for r in caplog.records if r.name == "musicagent.retry"]
    assert [r.getMessage() for r in records] == [
        f"Retrying GET {URL}?token=*** after 503 Service Unavailable (attempt 1 of 5) in 1.00 s",
        f"Retrying GET {URL}?token=*** after ConnectError: [Errno 111] Connection refused "
        "(attempt 2 of 5) in 2.00 s",
    ]
    assert [(r.__dict__["status"], r.__dict__["attempt"]) for r in records] == [(503, 1), (None, 2)]
    assert all(r.levelno == logging.WARNING for r in records)
    assert TOKEN not in caplog.text


def test_a_429_retry_is_logged_at_info(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="musicagent.retry")

    harness.send(Server((429, {"Retry-After": "1"}), 200))

    assert [r.levelno for r in caplog.records if r.name == "musicagent.retry"] == [logging.INFO]


# --- the circuit breaker -------------------------------------------------------------------

ONE_ATTEMPT = RetryPolicy(max_attempts=1)


def test_circuit_opens_after_consecutive_failures_and_fails_fast(harness: Harness) -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=30.0, clock=harness.clock)
    server = Server(503, 503, 503)
    for _ in range(3):
        harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)

    with pytest.raises(CircuitOpenError) as caught:
        harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)

    assert len(server.requests) == 3  # the fourth call never reached the server
    assert isinstance(caught.value, ServerError)
    assert not isinstance(caught.value, NetworkError)
    assert caught.value.retry_in == 30.0
    assert str(caught.value) == (
        "Circuit open after 3 consecutive server errors (last: 503 Service Unavailable); "
        f"will try again in 30.0 s (GET {URL})"
    )


def test_circuit_opened_by_network_errors_raises_a_network_error(harness: Harness) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=harness.clock)
    server = Server(connect_error(), connect_error())
    for _ in range(2):
        with pytest.raises(NetworkError, match="ConnectError"):
            harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)

    with pytest.raises(NetworkError, match="consecutive network errors") as caught:
        harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)

    assert isinstance(caught.value, CircuitOpenError)


def test_half_open_trial_success_closes_the_circuit(harness: Harness) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=harness.clock)
    server = Server(500, 500, 200, 200)
    for _ in range(2):
        harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)
    assert state_of(breaker) == "open"

    harness.clock.now += 30.0
    assert state_of(breaker) == "half-open"
    assert harness.send(server, policy=ONE_ATTEMPT, breaker=breaker).status_code == 200

    assert state_of(breaker) == "closed"
    assert harness.send(server, policy=ONE_ATTEMPT, breaker=breaker).status_code == 200


def test_half_open_trial_failure_opens_the_circuit_again(harness: Harness) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=harness.clock)
    server = Server(500, 500, 500)
    for _ in range(2):
        harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)
    harness.clock.now += 30.0

    harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)

    assert state_of(breaker) == "open"
    with pytest.raises(CircuitOpenError, match=r"will try again in 30\.0 s"):
        harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)


def test_one_logical_call_counts_once_however_many_attempts(harness: Harness) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=harness.clock)
    server = Server(503, 503, 503)

    harness.send(server, policy=RetryPolicy(max_attempts=3), breaker=breaker)

    assert len(server.requests) == 3
    assert state_of(breaker) == "closed"


def test_client_errors_do_not_open_the_circuit(harness: Harness) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=harness.clock)
    server = Server(404, 404, 404)

    for _ in range(3):
        harness.send(server, policy=ONE_ATTEMPT, breaker=breaker)

    assert state_of(breaker) == "closed"


def test_a_success_resets_the_consecutive_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=FakeClock())
    _fail(breaker)
    _fail(breaker)

    breaker.record_success()
    _fail(breaker)
    _fail(breaker)

    assert state_of(breaker) == "closed"
    _fail(breaker)
    assert state_of(breaker) == "open"


def test_half_open_lets_only_one_trial_through_at_a_time() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5.0, clock=clock)
    _fail(breaker)
    clock.now = 5.0

    breaker.before_call("GET", URL)  # the trial
    with pytest.raises(CircuitOpenError, match="a trial call is running"):
        breaker.before_call("GET", URL)

    breaker.record_success()
    breaker.before_call("GET", URL)


def test_cancelled_trial_frees_the_half_open_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5.0, clock=clock)
    _fail(breaker)
    clock.now = 5.0
    breaker.before_call()

    breaker.record_neutral()

    breaker.before_call()  # a new trial is allowed
    assert state_of(breaker) == "half-open"


def test_breaker_error_masks_the_url() -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=FakeClock())
    _fail(breaker)

    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call("GET", f"{URL}?token={TOKEN}")

    assert TOKEN not in str(caught.value)


def state_of(breaker: CircuitBreaker) -> str:
    return breaker.state  # read afresh each time (the property changes as the clock moves)


def _fail(breaker: CircuitBreaker) -> None:
    breaker.record_failure("503 Service Unavailable", network=False)


class _CountingLock:
    """A lock that counts how often it is taken."""

    def __init__(self) -> None:
        self.taken = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self.taken += 1
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_a_healthy_call_takes_no_breaker_lock() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0)
    lock = _CountingLock()
    breaker._lock = lock  # type: ignore[assignment]
    for _ in range(3):
        breaker.before_call()
        breaker.record_success()
    assert lock.taken == 0
    # A failure still counts under the lock, and the next success clears it.
    breaker.record_failure("500 Internal Server Error", network=False)
    breaker.before_call()
    breaker.record_success()
    breaker.record_failure("500 Internal Server Error", network=False)
    assert breaker.state == "closed"
    breaker.record_failure("500 Internal Server Error", network=False)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
