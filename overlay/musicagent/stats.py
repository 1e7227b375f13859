"""Counters of what a client really sent: requests on the wire, statuses, 429s, cache hits.

Exports print them in their summary line, benchmarks compare them across clients. The wire
counters come from `StatsTransport`, the innermost transport, so every attempt (retries
included) is counted once and a cache hit, answered above it, is not counted as a request.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class ClientStats:
    """Thread-safe counters of one client's traffic."""

    requests: int = 0
    """HTTP requests that reached the network (every retry attempt counts)."""
    network_errors: int = 0
    """Attempts that failed without a response (connect/read errors, timeouts)."""
    cache_hits: int = 0
    """Calls answered from the HTTP cache, without a request."""
    statuses: Counter[int] = field(default_factory=Counter)
    """Responses by status code."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def throttled(self) -> int:
        """How many 429 responses Discogs sent."""
        return self.statuses[429]

    def record_response(self, status: int) -> None:
        """Count one response received from the network."""
        with self._lock:
            self.requests += 1
            self.statuses[status] += 1

    def record_network_error(self) -> None:
        """Count one attempt that got no response."""
        with self._lock:
            self.requests += 1
            self.network_errors += 1

    def record_cache_hit(self) -> None:
        """Count one call served from the cache."""
        with self._lock:
            self.cache_hits += 1

    def snapshot(self) -> dict[str, object]:
        """The counters as plain data."""
        with self._lock:
            return {
                "requests": self.requests,
                "network_errors": self.network_errors,
                "cache_hits": self.cache_hits,
                "throttled": self.statuses[429],
                "statuses": dict(self.statuses),
            }


class StatsTransport(httpx.BaseTransport):
    """Count every request that goes on the wire, then hand it on."""

    def __init__(self, inner: httpx.BaseTransport, stats: ClientStats) -> None:
        self.inner = inner
        self.stats = stats

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the inner transport, counting the outcome."""
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError:
            self.stats.record_network_error()
            raise
        self.stats.record_response(response.status_code)
        return response

    def close(self) -> None:
        """Close the inner transport."""
        self.inner.close()


class AsyncStatsTransport(httpx.AsyncBaseTransport):
    """Async twin of `StatsTransport`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, stats: ClientStats) -> None:
        self.inner = inner
        self.stats = stats

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the inner transport, counting the outcome."""
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError:
            self.stats.record_network_error()
            raise
        self.stats.record_response(response.status_code)
        return response

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()
