"""Shared pieces of the fault and abuse suite: fast retries, the fault seed, a recording transport.

Every test here is seeded: the sandbox draws its faults from a fixed seed, hypothesis runs
derandomized, and a "random" page to kill an export at comes from a seeded generator. Rate
windows are scaled down (a second instead of a minute) so pacing and 429s cost little time;
tests assert counts and contents, never durations. (Shared rate limiters are reset around
every test by the top-level conftest.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from musicagent.retry import RetryPolicy

FAST_RETRIES = RetryPolicy(
    max_attempts=10, backoff_factor=0.01, max_backoff=0.05, throttled_wait=0.01
)
"""Retries that wait milliseconds, not seconds: faults are survived quickly."""

FAULT_SEED = 20240611
"""Seed of every fault draw in this suite (same seed, same faults, same outcome)."""


@dataclass
class SentRequest:
    """One request as it left the client: method, URL (raw path kept) and headers."""

    method: str
    url: httpx.URL
    headers: httpx.Headers

    @property
    def raw_path(self) -> str:
        """The path exactly as written on the wire, percent-encoding included."""
        return self.url.raw_path.decode("ascii").split("?")[0]


@dataclass
class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The innermost transport of a client: records every request, answers with `reply`.

    Usable by sync and async clients alike, so one table of cases drives both.
    """

    reply: Callable[[httpx.Request], httpx.Response] = field(
        default=lambda request: httpx.Response(200, json={})
    )
    sent: list[SentRequest] = field(default_factory=list)

    def _record(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(SentRequest(request.method, request.url, request.headers.copy()))
        return self.reply(request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._record(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self._record(request)
