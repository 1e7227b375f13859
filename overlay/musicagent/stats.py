"""Counters of what a client really sent: requests on the wire, statuses, 429s, cache hits.

Exports print them in their summary line, benchmarks compare them across clients. The wire
counters come from the wire transport (`musicagent.wire`), so every attempt (retries included)
is counted once, and a cache hit, answered by the request loop before any attempt, is not.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


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
