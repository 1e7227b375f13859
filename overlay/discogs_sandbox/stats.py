"""Counters of what a sandbox served: requests, statuses, operations, 429s, injected faults."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

__all__ = ["SandboxStats"]


class SandboxStats:
    """Thread-safe counters, read with :meth:`snapshot` (``GET /__sandbox/stats``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._requests = 0
            self._statuses: Counter[str] = Counter()
            self._operations: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._rate_limited = 0
            self._empty_user_agent = 0
            self._invalid: list[dict[str, Any]] = []

    def request(self, operation: str | None, status: int) -> None:
        """Count one answered API request."""
        with self._lock:
            self._requests += 1
            self._statuses[str(status)] += 1
            self._operations[operation or "(no operation)"] += 1

    def rate_limited(self) -> None:
        """Count one request refused by the rate limit."""
        with self._lock:
            self._rate_limited += 1

    def fault(self, kind: str) -> None:
        """Count one injected fault (``5xx``, ``429``, ``stall``, ``reset``, ``truncate``...)."""
        with self._lock:
            self._faults[kind] += 1

    def empty_user_agent(self) -> None:
        """Count one request turned away for lacking a User-Agent."""
        with self._lock:
            self._empty_user_agent += 1

    def invalid_body(self, method: str, path: str, status: int, problem: str) -> None:
        """Record a body that did not match the spec (self-check mode)."""
        with self._lock:
            self._invalid.append(
                {"method": method, "path": path, "status": status, "problem": problem}
            )

    def snapshot(self) -> dict[str, Any]:
        """The counters as a JSON-ready dict."""
        with self._lock:
            return {
                "requests": self._requests,
                "statuses": dict(self._statuses),
                "operations": dict(self._operations),
                "rate_limited": self._rate_limited,
                "status_429": self._statuses.get("429", 0),
                "faults": dict(self._faults),
                "faults_total": sum(self._faults.values()),
                "empty_user_agent": self._empty_user_agent,
                "invalid_bodies": list(self._invalid),
            }
