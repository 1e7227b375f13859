"""What happens to every attempt on the wire: pacing, the https rule, a deadline, a size cap,
one log record and one count.

This is the only transport the clients add to httpx's own; it runs for every attempt of an
operation call (the request loop in `musicagent.request_loop` decides the attempts) and for raw
`client.http` calls alike, so both are paced by the shared limiter, logged and counted the same
way. Credentials are not its business: httpx's `auth=` signs each request before it gets here.

    WireTransport(httpx.HTTPTransport(), WireRules(limiter=..., stats=..., ...))
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx

from musicagent.auth import is_loopback_host
from musicagent.deadline import attempt_deadline, set_attempt_deadline
from musicagent.errors import DeadlineExceededError, InvalidParameterError, ResponseTooLargeError
from musicagent.logging import log_attempt
from musicagent.ratelimit import RateLimiter
from musicagent.ratelimit.limiter import Admission
from musicagent.stats import ClientStats

__all__ = ["AsyncWireTransport", "WireRules", "WireTransport", "too_large"]


def too_large(request: httpx.Request, limit: int, what: str) -> ResponseTooLargeError:
    """The error for a body over the cap (`what`: "body" or "decompressed body")."""
    return ResponseTooLargeError(
        f"response {what} exceeds {limit} bytes (DISCOGS_MAX_RESPONSE_BYTES); "
        "no real Discogs answer is that large",
        limit=limit,
        method=request.method,
        url=request.url,
    )


def deadline_exceeded(request: httpx.Request, seconds: float | None) -> DeadlineExceededError:
    """The error for an attempt that ran out of its total time."""
    limit = f" of {seconds:g} s" if seconds is not None else ""
    return DeadlineExceededError(
        f"the attempt took longer than its total time{limit} (DISCOGS_TOTAL_TIMEOUT); "
        "the server answered too slowly or never finished",
        method=request.method,
        url=request.url,
    )


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


class WireRules:
    """The per-attempt rules both wire transports apply (the shells only do the I/O).

    Args:
        limiter: the shared rate limiter, or None for no pacing.
        stats: counters of what reached the wire.
        total_timeout: seconds for one whole attempt, or None for no deadline.
        max_response_bytes: the largest body accepted on the wire (compressed size; the
            request loop also caps the decompressed size).
    """

    def __init__(
        self,
        *,
        limiter: RateLimiter | None,
        stats: ClientStats,
        total_timeout: float | None,
        max_response_bytes: int,
    ) -> None:
        self.limiter = limiter
        self.stats = stats
        self.total_timeout = total_timeout
        self.max_response_bytes = max_response_bytes

    def check(self, request: httpx.Request) -> None:
        """Refuse plain http to a host other than loopback: headers would travel in clear."""
        url = request.url
        if url.scheme == "http" and not is_loopback_host(url.host):
            raise InvalidParameterError(
                f"refusing to send {request.method} over plain http to {url.host}; "
                "use https:// (plain http is allowed only for loopback hosts)",
                parameter="url",
                allowed="https://<host>, or http:// on a loopback host",
                value=str(url.copy_with(query=None)),
            )

    def begin(self) -> tuple[float, float | None]:
        """Start the attempt's clock and deadline: (start, deadline)."""
        return time.perf_counter(), set_attempt_deadline(self.total_timeout)

    def failed(
        self, request: httpx.Request, exc: Exception, started: float, deadline: float | None
    ) -> Exception:
        """Count and log an attempt that got no response; the exception to raise instead."""
        self.stats.record_network_error()
        log_attempt(request, time.perf_counter() - started, error=exc)
        if isinstance(exc, httpx.TimeoutException) and _past(deadline):
            return deadline_exceeded(request, self.total_timeout)
        return exc

    def answered(
        self,
        request: httpx.Request,
        response: httpx.Response,
        started: float,
        admission: Admission | None = None,
    ) -> httpx.Response:
        """Learn from, count and log a response; refuse one announced as too large.

        `admission` is the limiter's for this attempt: a response telling the window nothing
        new then costs no second store transaction.
        """
        if self.limiter is not None:
            self.limiter.record_response(response.status_code, response.headers, admission)
        self.stats.record_response(response.status_code)
        log_attempt(request, time.perf_counter() - started, response=response)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise too_large(request, self.max_response_bytes, "body")
        return response


def _admit(
    chunk: bytes, received: int, request: httpx.Request, rules: WireRules, deadline: float | None
) -> int:
    """Bytes received once `chunk` is taken; refuses it past the cap or the deadline."""
    received += len(chunk)
    if received > rules.max_response_bytes:
        raise too_large(request, rules.max_response_bytes, "body")
    if _past(deadline):
        raise deadline_exceeded(request, rules.total_timeout)
    return received


class _CappedStream(httpx.SyncByteStream):
    """The response body as it arrives, stopped at the size cap and the attempt deadline."""

    def __init__(
        self, inner: httpx.SyncByteStream, request: httpx.Request, rules: WireRules
    ) -> None:
        self._inner = inner
        self._request = request
        self._rules = rules
        self._deadline = attempt_deadline()

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        try:
            for chunk in self._inner:
                received = _admit(chunk, received, self._request, self._rules, self._deadline)
                yield chunk
        except httpx.TimeoutException as exc:
            if not _past(self._deadline):
                raise
            raise deadline_exceeded(self._request, self._rules.total_timeout) from exc

    def close(self) -> None:
        self._inner.close()


class _AsyncCappedStream(httpx.AsyncByteStream):
    """Async twin of `_CappedStream`."""

    def __init__(
        self, inner: httpx.AsyncByteStream, request: httpx.Request, rules: WireRules
    ) -> None:
        self._inner = inner
        self._request = request
        self._rules = rules
        self._deadline = attempt_deadline()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        try:
            async for chunk in self._inner:
                received = _admit(chunk, received, self._request, self._rules, self._deadline)
                yield chunk
        except httpx.TimeoutException as exc:
            if not _past(self._deadline):
                raise
            raise deadline_exceeded(self._request, self._rules.total_timeout) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class WireTransport(httpx.BaseTransport):
    """Sync shell: wait for the limiter, send, then apply `WireRules` to the outcome."""

    def __init__(self, inner: httpx.BaseTransport, rules: WireRules) -> None:
        self.inner = inner
        self.rules = rules

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send one attempt under the rules."""
        self.rules.check(request)
        limiter = self.rules.limiter
        admission = limiter.admit() if limiter is not None else None
        started, deadline = self.rules.begin()
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError as exc:
            error = self.rules.failed(request, exc, started, deadline)
            if error is exc:
                raise
            raise error from exc
        try:
            self.rules.answered(request, response, started, admission)
        except BaseException:
            response.close()
            raise
        if isinstance(response.stream, httpx.SyncByteStream):
            response.stream = _CappedStream(response.stream, request, self.rules)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


class AsyncWireTransport(httpx.AsyncBaseTransport):
    """Async shell: wait for the limiter without blocking the loop, send, apply `WireRules`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rules: WireRules) -> None:
        self.inner = inner
        self.rules = rules

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one attempt under the rules."""
        self.rules.check(request)
        limiter = self.rules.limiter
        admission = await limiter.admit_async() if limiter is not None else None
        started, deadline = self.rules.begin()
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError as exc:
            error = self.rules.failed(request, exc, started, deadline)
            if error is exc:
                raise
            raise error from exc
        try:
            self.rules.answered(request, response, started, admission)
        except BaseException:
            await response.aclose()
            raise
        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _AsyncCappedStream(response.stream, request, self.rules)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()
