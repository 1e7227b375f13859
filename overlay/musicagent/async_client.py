"""`AsyncDiscogs`: the asyncio client, the same methods as `Discogs`, awaited.

Kept apart from `musicagent.client` so a sync program never imports the async facade; both
clients share `ClientConfig` and `_ClientMixin` (settings, credentials, limiter, cache).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self, Unpack

import httpx
from discogs_facade.asynchronous import AsyncResources

from musicagent._executor import AsyncExecutor
from musicagent.cache import AsyncCacheStore
from musicagent.client import ClientConfig, ClientOptions, _cache_hooks, _ClientMixin
from musicagent.cookies import ApiAsyncClient
from musicagent.deadline import with_async_deadlines
from musicagent.request_loop import AsyncIO
from musicagent.wire import AsyncWireTransport


class AsyncDiscogs(_ClientMixin, AsyncResources):
    """Asyncio Discogs client: the same methods as `Discogs`, awaited (`async for` for `iter_*`).

    ::

        async with AsyncDiscogs(token="...") as client:
            release = await client.database.get_release(249504)
            async for want in client.wantlist.iter_wantlist("me"):
                ...
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        cache: AsyncCacheStore | bool | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self._config = config = ClientConfig.resolve(token, **options)
        inner = (
            transport if transport is not None else with_async_deadlines(httpx.AsyncHTTPTransport())
        )
        self.http = ApiAsyncClient(
            transport=AsyncWireTransport(inner, config.wire_rules()), **config.http_options()
        )
        """The underlying `httpx.AsyncClient` (raw access: signed for the API's origin only,
        paced, logged and counted, without the loop's cache and retries)."""
        self._cache = hooks = _cache_hooks(config, cache)
        self._executor = AsyncExecutor(
            self.http,
            config.loop(hooks),
            AsyncIO(self.http, max_response_bytes=config.max_response_bytes, cache=hooks),
            strict=config.strict,
            rate_limit=lambda: self.rate_limit,
            max_pages=config.max_pages,
            recorder=config.recorder,
        )
        AsyncResources.__init__(self, self._executor)

    async def aclose(self) -> None:
        """Close connections."""
        await self.http.aclose()
        if self._cache is not None:
            self._cache.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


__all__ = ["AsyncDiscogs"]
