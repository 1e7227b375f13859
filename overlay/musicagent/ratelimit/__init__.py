"""Proactive rate limiting for the Discogs API: a moving-window limiter and its stores.

Discogs allows 60 requests (25 unauthenticated) per moving 60-second window and reports the budget
on every response in `X-Discogs-Ratelimit`, `X-Discogs-Ratelimit-Used` and
`X-Discogs-Ratelimit-Remaining`. `RateLimiter` keeps the send time of every request in the window:
a burst goes through while budget remains, then each caller waits exactly until the oldest request
leaves the window, so a long crawl never sees a 429.

    limiter = RateLimiter.shared(credential_fingerprint(token), max_requests=60, window=60.0)
    admission = limiter.admit()                        # before each attempt
    limiter.record_response(status, headers, admission)  # after it

Several processes spending one budget share it through a small SQLite file
(`RateLimiter(store=SqliteRateLimitStore("discogs-ratelimit.sqlite3", budget=identity))`), and
workers on several machines through Redis (`RedisRateLimitStore(url, budget=identity)`).

Modules: `headers` (reading and clamping the rate-limit headers), `window` (the moving-window
rules), `stores` (in-process and SQLite stores), `redis_store`, `limiter`. The wire transport
(`musicagent.wire`) acquires a slot for every attempt and corrects the budget from each response.
"""

from __future__ import annotations

from musicagent.ratelimit.headers import RateLimitHeaders, parse_rate_limit_headers
from musicagent.ratelimit.limiter import (
    Admission,
    RateLimiter,
    RateLimitStatus,
    credential_fingerprint,
)
from musicagent.ratelimit.redis_store import RedisRateLimitStore
from musicagent.ratelimit.stores import (
    MemoryRateLimitStore,
    RateLimitStore,
    Reservation,
    SqliteRateLimitStore,
)
from musicagent.ratelimit.window import earliest_send_time

__all__ = [
    "Admission",
    "MemoryRateLimitStore",
    "RateLimitHeaders",
    "RateLimitStatus",
    "RateLimitStore",
    "RateLimiter",
    "RedisRateLimitStore",
    "Reservation",
    "SqliteRateLimitStore",
    "credential_fingerprint",
    "earliest_send_time",
    "parse_rate_limit_headers",
]
