"""Transports that wait for a `RateLimiter` before each request and learn from each response."""

from __future__ import annotations

import httpx

from musicagent.extensions import RATE_LIMIT_WAIT
from musicagent.ratelimit.limiter import RateLimiter

__all__ = ["AsyncRateLimitTransport", "RateLimitTransport"]


class RateLimitTransport(httpx.BaseTransport):
    """Transport that waits for the rate limiter before each request and learns from responses.

    Place it below the retry transport so every attempt, retries included, spends budget.
    The seconds waited are recorded in `request.extensions["musicagent.rate_limit_wait"]`.
    """

    def __init__(self, inner: httpx.BaseTransport, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot, send, then update the budget from the response."""
        request.extensions[RATE_LIMIT_WAIT] = self.limiter.acquire()
        response = self.inner.handle_request(request)
        self.limiter.record_response(response.status_code, response.headers)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


class AsyncRateLimitTransport(httpx.AsyncBaseTransport):
    """Async twin of `RateLimitTransport`: waits for the limiter without blocking the loop."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot, send, then update the budget from the response."""
        request.extensions[RATE_LIMIT_WAIT] = await self.limiter.acquire_async()
        response = await self.inner.handle_async_request(request)
        self.limiter.record_response(response.status_code, response.headers)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()
