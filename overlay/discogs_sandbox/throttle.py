"""The sandbox's moving-window rate limit, per credential (or per IP without one).

Like Discogs: at most ``limit`` requests in any ``window`` seconds, 60 per 60 s with
credentials and 25 without by default. Requests turned away with a 429 do not count, so a
client that waits for the window to free always gets through again.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Budget", "RequestThrottle"]


@dataclass(frozen=True)
class Budget:
    """The outcome of one request against the limit, as the rate-limit headers report it."""

    allowed: bool
    limit: int
    used: int
    remaining: int

    def headers(self) -> dict[str, str]:
        """``X-Discogs-Ratelimit``, ``-Used`` and ``-Remaining``."""
        return {
            "X-Discogs-Ratelimit": str(self.limit),
            "X-Discogs-Ratelimit-Used": str(self.used),
            "X-Discogs-Ratelimit-Remaining": str(self.remaining),
        }


class RequestThrottle:
    """Moving-window counters keyed by credential; thread-safe.

    ``grace`` makes each request leave the window that much early: the sandbox stamps a request
    when it reads it, a little after the client sent it, and without the allowance a client
    that waits exactly one window could still be refused because of that jitter.
    """

    def __init__(
        self,
        limit: int,
        anonymous_limit: int,
        window: float,
        *,
        grace: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.anonymous_limit = anonymous_limit
        self.window = window
        self.grace = grace
        self._clock = clock
        self._lock = threading.Lock()
        self._stamps: dict[str, list[float]] = {}
        self._preset_count = 0
        self._preset_at = 0.0
        self.max_used: dict[str, int] = {}

    def configure(
        self,
        *,
        limit: int | None = None,
        anonymous_limit: int | None = None,
        window: float | None = None,
    ) -> None:
        """Change the limits; counts already made stay in their windows."""
        with self._lock:
            if limit is not None:
                self.limit = limit
            if anonymous_limit is not None:
                self.anonymous_limit = anonymous_limit
            if window is not None:
                self.window = window

    def preset(self, used: int) -> None:
        """Pretend another program just spent ``used`` requests of every credential's budget."""
        with self._lock:
            now = self._clock()
            self._preset_count, self._preset_at = used, now
            for stamps in self._stamps.values():
                for _ in range(used):
                    bisect.insort(stamps, now)

    def reset(self) -> None:
        """Forget every request counted."""
        with self._lock:
            self._stamps.clear()
            self.max_used.clear()
            self._preset_count = 0

    def _window_of(self, key: str, now: float) -> list[float]:
        stamps = self._stamps.get(key)
        if stamps is None:
            stamps = [self._preset_at] * self._preset_count
            self._stamps[key] = stamps
        horizon = now - (self.window - self.grace)
        del stamps[: bisect.bisect_right(stamps, horizon)]
        return stamps

    def hit(self, key: str, authenticated: bool) -> Budget:
        """Count one request; ``allowed`` is False (and nothing counted) when over the limit."""
        with self._lock:
            now = self._clock()
            limit = self.limit if authenticated else self.anonymous_limit
            stamps = self._window_of(key, now)
            if len(stamps) >= limit:
                return Budget(False, limit, len(stamps), 0)
            stamps.append(now)
            used = len(stamps)
            self.max_used[key] = max(self.max_used.get(key, 0), used)
            return Budget(True, limit, used, limit - used)

    def peek(self, key: str, authenticated: bool) -> Budget:
        """The budget now, without counting a request."""
        with self._lock:
            limit = self.limit if authenticated else self.anonymous_limit
            used = len(self._window_of(key, self._clock()))
            return Budget(used < limit, limit, used, max(0, limit - used))
