"""The one request loop every operation call runs through, written once for sync and async.

    cache lookup ─ hit ──────────────────────────────────────────────────────────────▶ response
        │ miss
    circuit breaker ▶ for each attempt: send (httpx signs it; the wire transport paces, bounds,
        │                               logs and counts it) and read the body, capped
        │             retry decision: 429 / 5xx / network errors, full-jitter backoff,
        │                             Retry-After, never replaying what is not replay-safe
    breaker outcome ▶ cache store (2xx, not no-store) or invalidation (writes) ─────▶ response

`call_flow` holds every decision. It is a generator that yields the I/O it needs as small
effect objects (`Send`, `Sleep`, `CacheGet`, `CachePut`, `CacheInvalidate`) and receives their
results, so it performs no I/O itself. `run_sync` and `run_async` drive it; `SyncIO` and
`AsyncIO` perform the effects with blocking or awaitable calls. That is the whole difference
between the two clients: the decisions cannot drift apart.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread
import httpx

from musicagent import extensions
from musicagent.auth import is_loopback_host
from musicagent.errors import DiscogsAPIError, NetworkError
from musicagent.masking import known_secrets, mask_text, mask_url
from musicagent.retry import (
    NOT_SENT_ERRORS,
    CircuitBreaker,
    RetryPolicy,
    retry_wait_seconds,
    should_retry,
)
from musicagent.stats import ClientStats
from musicagent.wire import too_large

__all__ = [
    "AsyncIO",
    "CacheGet",
    "CacheHooks",
    "CacheInvalidate",
    "CachePut",
    "Effect",
    "LoopSettings",
    "Send",
    "Sleep",
    "SyncIO",
    "call_flow",
    "run_async",
    "run_sync",
]

logger = logging.getLogger("musicagent.retry")
_cache_logger = logging.getLogger("musicagent.cache")

T = TypeVar("T")
E = TypeVar("E")
"""The effects a flow yields: the request loop's own, or another flow's (the mirror's)."""


# --- effects: the I/O the flow asks for -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Send one attempt and read its whole body (capped); the result is the read response."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait before the next attempt."""

    seconds: float


@dataclass(frozen=True, slots=True)
class CacheGet:
    """Look a planned request up in the cache; the result is a response or None."""

    plan: Any
    request: httpx.Request


@dataclass(frozen=True, slots=True)
class CachePut:
    """Store a final response for a planned request."""

    plan: Any
    response: httpx.Response


@dataclass(frozen=True, slots=True)
class CacheInvalidate:
    """Drop the cached answers a write may have changed."""

    plan: Any


Effect = Send | Sleep | CacheGet | CachePut | CacheInvalidate


class CacheHooks(Protocol):
    """What the loop needs from the response cache (see `musicagent.cache`)."""

    offload: bool
    """True when the store does network I/O (Redis): the async loop then runs it in a thread."""

    def plan(
        self, op: Any, request: httpx.Request, path_arguments: Mapping[str, Any]
    ) -> Any | None:
        """What to do with this call (None: the cache is not involved)."""
        ...

    def lookup(self, plan: Any) -> bool:
        """Whether the plan asks for a lookup before sending."""
        ...

    def get(self, plan: Any, request: httpx.Request) -> httpx.Response | None:
        """The cached response for the plan, or None."""
        ...

    def put(self, plan: Any, response: httpx.Response) -> None:
        """Store a final response (the store decides what it keeps)."""
        ...

    def invalidate(self, plan: Any) -> None:
        """Drop what a write made stale."""
        ...


@dataclass
class LoopSettings:
    """What one client's loop decides with (built once per client)."""

    retry: RetryPolicy
    breaker: CircuitBreaker | None
    stats: ClientStats
    cache: CacheHooks | None = None
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)


# --- the flow ------------------------------------------------------------------------------


def call_flow(
    loop: LoopSettings,
    request: httpx.Request,
    *,
    op: Any = None,
    path_arguments: Mapping[str, Any] | None = None,
) -> Generator[Effect, Any, httpx.Response]:
    """Every decision of one call, from cache lookup to the final, fully read response.

    `op` is the facade's `Operation` (its `replay_safe` decides what may be resent after an
    ambiguous failure). The returned response has its body read; errors are the typed
    `DiscogsAPIError`s of the wire (deadline, size) or a `NetworkError` once retries are spent;
    HTTP error statuses come back as responses for the caller to turn into errors.
    """
    cache = loop.cache
    plan = cache.plan(op, request, path_arguments or {}) if cache is not None else None
    if cache is not None and plan is not None and cache.lookup(plan):
        hit = yield CacheGet(plan, request)
        if hit is not None:
            loop.stats.record_cache_hit()
            _cache_logger.debug("cache hit: %s %s", request.method, mask_url(request.url))
            return hit  # type: ignore[no-any-return]
    breaker = loop.breaker
    if breaker is not None:
        breaker.before_call(request.method, request.url)
    replay_safe = getattr(op, "replay_safe", None)
    started = loop.clock()
    attempt = 0
    outcome: httpx.Response | BaseException
    try:
        while True:
            attempt += 1
            request.extensions[extensions.ATTEMPT] = attempt
            try:
                outcome = yield Send(request)
            except (httpx.TransportError, DiscogsAPIError) as exc:
                outcome = exc
            wait = _retry_wait(loop, request, outcome, attempt, started, replay_safe)
            if wait is None:
                break
            _log_retry(loop.retry, request, outcome, attempt, wait)
            yield Sleep(wait)
    except BaseException:
        # Cancelled or interrupted mid-call: the server's health is unknown.
        if breaker is not None:
            breaker.record_neutral()
        if cache is not None and plan is not None and request.method not in ("GET", "HEAD"):
            yield CacheInvalidate(plan)
        raise
    _tell_breaker(breaker, outcome)
    if cache is not None and plan is not None:
        if request.method in ("GET", "HEAD"):
            if isinstance(outcome, httpx.Response):
                yield CachePut(plan, outcome)
        else:
            # Whatever the outcome, a write may have been applied.
            yield CacheInvalidate(plan)
    if isinstance(outcome, httpx.TransportError):
        raise _network_error(outcome, request) from outcome
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _retry_wait(
    loop: LoopSettings,
    request: httpx.Request,
    outcome: httpx.Response | BaseException,
    attempt: int,
    started: float,
    replay_safe: bool | None,
) -> float | None:
    """Seconds to wait before the next attempt, or None when this outcome is final."""
    policy = loop.retry
    if attempt >= policy.max_attempts:
        return None
    if isinstance(outcome, DiscogsAPIError):
        # Our own verdicts (deadline, size cap, refused URL): sending again changes nothing.
        return None
    if isinstance(outcome, NOT_SENT_ERRORS) and is_loopback_host(request.url.host):
        # Nothing listens on that local port; waiting will not start a server.
        return None
    status = outcome.status_code if isinstance(outcome, httpx.Response) else outcome
    if not should_retry(request.method, status, policy, replay_safe=replay_safe):
        return None
    wait = retry_wait_seconds(outcome, attempt, policy, now=loop.wall_clock(), rng=loop.rng)
    if loop.clock() - started + wait > policy.max_total_time:
        return None
    return wait


def _tell_breaker(breaker: CircuitBreaker | None, outcome: httpx.Response | BaseException) -> None:
    """Tell the breaker how the logical call (all attempts) ended."""
    if breaker is None:
        return
    if isinstance(outcome, httpx.Response):
        if outcome.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            reason = f"{outcome.status_code} {outcome.reason_phrase}".rstrip()
            breaker.record_failure(reason, network=False)
        else:
            breaker.record_success()
    elif isinstance(outcome, httpx.TransportError | NetworkError):
        detail = mask_text(f"{type(outcome).__name__}: {outcome}", known_secrets())
        breaker.record_failure(detail, network=True)
    else:
        breaker.record_neutral()


def _log_retry(
    policy: RetryPolicy,
    request: httpx.Request,
    outcome: httpx.Response | BaseException,
    attempt: int,
    wait: float,
) -> None:
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
        attempt,
        policy.max_attempts,
        wait,
        extra={
            "method": request.method,
            "url": url,
            "status": status,
            "error": None if status is not None else type(outcome).__name__,
            "attempt": attempt,
            "wait": wait,
            "correlation_id": request.extensions.get(extensions.CORRELATION_ID),
        },
    )


def _network_error(exc: httpx.TransportError, request: httpx.Request) -> NetworkError:
    kind = type(exc).__name__
    return NetworkError(
        f"{kind}: {exc}" if str(exc) else kind, method=request.method, url=request.url
    )


# --- reading a body under the cap ----------------------------------------------------------


_ENCODING_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _sent_as_is(response: httpx.Response) -> bool:
    """Whether the body arrives as it is meant (no content or transfer coding) with its length.

    Then the decoded body is the body on the wire, which the wire transport already caps at
    the same limit, and httpx's own read gives the response `_read_response` would rebuild
    (same headers, same content) without a second pass over the body.
    """
    headers = response.headers
    return (
        "content-length" in headers
        and "content-encoding" not in headers
        and "transfer-encoding" not in headers
    )


def _read_response(response: httpx.Response, chunks: list[bytes]) -> httpx.Response:
    """A response holding the decoded body read in `chunks` (its stream already consumed)."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _ENCODING_HEADERS]
    read = httpx.Response(
        response.status_code,
        headers=headers,
        content=b"".join(chunks),
        request=response.request,
        extensions=response.extensions,
    )
    return read


def _take(chunks: list[bytes], chunk: bytes, total: int, limit: int, request: httpx.Request) -> int:
    total += len(chunk)
    if total > limit:
        raise too_large(request, limit, "decompressed body")
    chunks.append(chunk)
    return total


# --- the two shells ------------------------------------------------------------------------


def run_sync(flow: Generator[E, Any, T], perform: Callable[[E], Any]) -> T:
    """Drive a flow with blocking I/O: perform each effect, hand back its result or error."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            value, error = perform(effect), None
        except BaseException as exc:  # the flow decides; what it does not catch propagates
            value, error = None, exc


async def run_async(flow: Generator[E, Any, T], perform: Callable[[E], Awaitable[Any]]) -> T:
    """Drive a flow with awaitable I/O: the same loop as `run_sync`."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            value, error = await perform(effect), None
        except BaseException as exc:
            value, error = None, exc


class SyncIO:
    """Performs effects for `Discogs`: blocking sends, sleeps and cache calls."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        max_response_bytes: int,
        cache: CacheHooks | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.max_response_bytes = max_response_bytes
        self.cache = cache
        self.sleep = sleep

    def perform(self, effect: Effect) -> Any:
        """Carry out one effect."""
        if isinstance(effect, Send):
            response = self.client.send(effect.request, stream=True)
            try:
                if _sent_as_is(response):
                    response.read()
                    return response
                chunks: list[bytes] = []
                total = 0
                for chunk in response.iter_bytes():
                    total = _take(chunks, chunk, total, self.max_response_bytes, effect.request)
            finally:
                response.close()
            return _read_response(response, chunks)
        if isinstance(effect, Sleep):
            self.sleep(effect.seconds)
            return None
        assert self.cache is not None, "cache effects come only from a loop with a cache"
        if isinstance(effect, CacheGet):
            return self.cache.get(effect.plan, effect.request)
        if isinstance(effect, CachePut):
            self.cache.put(effect.plan, effect.response)
            return None
        self.cache.invalidate(effect.plan)
        return None


class AsyncIO:
    """Performs effects for `AsyncDiscogs`: awaited sends and sleeps; cache calls in a worker
    thread when the store does network I/O."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_response_bytes: int,
        cache: CacheHooks | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.max_response_bytes = max_response_bytes
        self.cache = cache
        self.sleep = sleep or anyio.sleep

    async def perform(self, effect: Effect) -> Any:
        """Carry out one effect."""
        if isinstance(effect, Send):
            response = await self.client.send(effect.request, stream=True)
            try:
                if _sent_as_is(response):
                    await response.aread()
                    return response
                chunks: list[bytes] = []
                total = 0
                async for chunk in response.aiter_bytes():
                    total = _take(chunks, chunk, total, self.max_response_bytes, effect.request)
            finally:
                await response.aclose()
            return _read_response(response, chunks)
        if isinstance(effect, Sleep):
            await self.sleep(effect.seconds)
            return None
        cache = self.cache
        assert cache is not None, "cache effects come only from a loop with a cache"
        if isinstance(effect, CacheGet):
            return await self._cache_call(cache.get, effect.plan, effect.request)
        if isinstance(effect, CachePut):
            return await self._cache_call(cache.put, effect.plan, effect.response)
        return await self._cache_call(cache.invalidate, effect.plan)

    async def _cache_call(self, function: Callable[..., T], *args: Any) -> T:
        assert self.cache is not None
        if self.cache.offload:
            return await anyio.to_thread.run_sync(function, *args)
        return function(*args)
