"""One Redis server as this process sees it: one client, whether it answers, one warning per outage.

The rate-limit store (`musicagent.ratelimit.redis_store`) and the cache
(`musicagent.cache.redis_store`) may both use the Redis at ``DISCOGS_REDIS_URL``. They share
one `RedisLink` per URL, so when the server stops answering the process says so once, on the
``musicagent.redis`` logger (one warning naming what falls back: the rate window to a window in
this process, corrected from the API's headers, and the cache to none); no request waits for a
dead server (it is tried again every `retry_interval` seconds, and while it rests every call
fails at once with `RedisUnavailable`); and when it answers again both rejoin the shared state
(one info line). `generation` counts those returns: a restarted server may have lost its keys,
salts included, so users re-read what they derived from it.

Sync and async clients go through the same link (the async client runs the calls in a worker
thread), so there is one fallback for both.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from musicagent.masking import mask_url

__all__ = ["RETRY_INTERVAL", "SOCKET_TIMEOUT", "RedisLink", "RedisUnavailable"]

logger = logging.getLogger("musicagent.redis")

T = TypeVar("T")

RETRY_INTERVAL = 5.0
"""Seconds a server that failed rests before it is tried again."""
SOCKET_TIMEOUT = 2.0
"""Seconds to wait for Redis before treating it as gone (a request never waits longer)."""


class RedisUnavailable(Exception):
    """Redis did not answer, or is resting after it failed; the warning was already logged."""


class RedisLink:
    """A Redis client and the health of its server, shared by every user in this process.

    Args:
        url: ``redis://[:password@]host:port/db``; it may hold a password, so only `location`
            (masked) is ever shown.
        retry_interval: seconds between attempts to reach a server that failed (default
            `RETRY_INTERVAL`).
        socket_timeout: seconds to wait for the server to connect or answer.
        client: an already made ``redis.Redis`` (then ``url`` only names it in messages).
    """

    _shared: ClassVar[dict[str, RedisLink]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        url: str,
        *,
        retry_interval: float | None = None,
        socket_timeout: float = SOCKET_TIMEOUT,
        client: Any = None,
    ) -> None:
        # Imported here: `import musicagent` must work without the redis extra (users check for
        # it first and say how to install it).
        import redis

        if client is None:
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            # One immediate reconnect covers a pooled connection the server dropped (it was
            # restarted); anything more would hold a request while the server is gone.
            client = redis.Redis.from_url(
                url,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            )
        self.client: Any = client
        self.location = mask_url(url)
        self.retry_interval = RETRY_INTERVAL if retry_interval is None else retry_interval
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._lock = threading.Lock()
        self._down_until: float | None = None
        self._generation = 0
        self._users: list[str] = []

    @classmethod
    def shared(cls, url: str) -> RedisLink:
        """The link of this process to ``url``, made on first use."""
        # Filed under a hash: the URL may carry a password.
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()
        with cls._shared_lock:
            link = cls._shared.get(name)
            if link is None:
                link = cls._shared[name] = cls(url)
            return link

    @classmethod
    def reset_shared(cls) -> None:
        """Forget every shared link (tests, or after a fork)."""
        with cls._shared_lock:
            links = list(cls._shared.values())
            cls._shared.clear()
        for link in links:
            link.close()

    @property
    def up(self) -> bool:
        """False from a failure until the server answers again."""
        return self._down_until is None

    @property
    def generation(self) -> int:
        """How many times the server answered again after an outage."""
        return self._generation

    def serves(self, what: str) -> None:
        """Note a user (``rate window``, ``cache``) so the outage warning names what falls back."""
        with self._lock:
            if what not in self._users:
                self._users.append(what)

    def call(self, operation: Callable[[Any], T]) -> T:
        """Run ``operation(client)``; raise `RedisUnavailable` when the server is not answering.

        While the server rests after a failure, nothing is sent and the call fails at once.
        """
        with self._lock:
            if self._down_until is not None and time.monotonic() < self._down_until:
                raise RedisUnavailable(f"Redis at {self.location} is not answering")
        try:
            result = operation(self.client)
        except self._errors as exc:
            self._went_down(exc)
            raise RedisUnavailable(
                f"Redis at {self.location} is unreachable ({type(exc).__name__})"
            ) from None
        if self._down_until is not None:
            self._came_back()
        return result

    def close(self) -> None:
        """Close the connections (a later call opens them again)."""
        self.client.close()

    def __repr__(self) -> str:
        return f"RedisLink({self.location!r}, up={self.up})"

    def _went_down(self, exc: BaseException) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = time.monotonic() + self.retry_interval
            users = list(self._users)
        if first:
            logger.warning(
                "Redis at %s is unreachable (%s); %s until it answers (tried again every %g s)",
                self.location,
                type(exc).__name__,
                _fallbacks(users),
                self.retry_interval,
            )

    def _came_back(self) -> None:
        with self._lock:
            if self._down_until is None:
                return
            self._down_until = None
            self._generation += 1
            users = list(self._users)
        shared = " and ".join(users) or "its state"
        logger.info("Redis at %s answers again: sharing its %s", self.location, shared)


_FALLBACKS = {
    "rate window": "pacing with a rate window of this process, corrected from the API's headers",
    "cache": "going on without the cache",
}


def _fallbacks(users: list[str]) -> str:
    described = [_FALLBACKS.get(user, f"going on without its {user}") for user in users]
    return "; ".join(described) or "going on without it"
