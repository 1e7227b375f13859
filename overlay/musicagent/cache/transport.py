"""Thin httpx transports over `CacheStore`: plan, look up, else send and store.

They sit outermost in today's transport stack (above retry, rate limit and auth), so a hit
spends no rate budget and sends nothing, and the request they see carries no credential.
Both twins make the decisions of the client's own `LoopCache` (through `_Flow`); only the
I/O differs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import httpx
from discogs_facade import OPERATIONS, Operation

from musicagent.cache.loop import LoopCache, resolve_store
from musicagent.cache.plan import FROM_CACHE, CachePlan, path_arguments
from musicagent.cache.policy import CachePolicy
from musicagent.cache.store import CacheStore
from musicagent.errors import InvalidParameterError
from musicagent.extensions import OPERATION_ID
from musicagent.settings import DiscogsSettings

__all__ = [
    "AsyncCacheTransport",
    "CacheTransport",
    "HitHook",
    "Identity",
    "async_cache_transport",
    "cache_transport",
    "plan_request",
]

logger = logging.getLogger("musicagent.cache")

Identity = str | Callable[[], str]
"""A credential identity, or a function returning the current one (tokens can change)."""

HitHook = Callable[[httpx.Request], object]
"""Called with each request answered from the cache (``ClientStats.record_cache_hit``, say)."""


def plan_request(
    request: httpx.Request, policy: CachePolicy, store: CacheStore, identity: str
) -> CachePlan:
    """The plan for a request a transport sees: its operation named in its extensions (set by
    the executor), else found from its method and path."""
    cache = LoopCache(store, policy, lambda: identity, owns_store=False)
    return _Flow(cache, None).plan(request)


class _Flow:
    """What both transports share, on top of the client's `LoopCache`: finding the operation
    a bare request belongs to, and telling the hit hook (the logging layer sits below the
    cache and never sees a hit)."""

    def __init__(self, cache: LoopCache, on_hit: HitHook | None) -> None:
        self.cache = cache
        self.on_hit = on_hit

    def plan(self, request: httpx.Request) -> CachePlan:
        operation_id = request.extensions.get(OPERATION_ID)
        op: Operation[Any] | None = None
        if isinstance(operation_id, str) and operation_id in OPERATIONS:
            op = OPERATIONS[operation_id]
        arguments = path_arguments(op, request.url.path) if op is not None else {}
        return self.cache.plan(op, request, arguments)

    def hit(self, plan: CachePlan, request: httpx.Request) -> httpx.Response | None:
        if not self.cache.lookup(plan):
            return None
        cached = self.cache.get(plan, request)
        if cached is None:
            return None
        logger.debug("cache hit: %s %s (%s)", request.method, plan.path, plan.kind)
        if self.on_hit is not None:
            self.on_hit(request)
        return cached


def _identity_source(identity: Identity) -> Callable[[], str]:
    if callable(identity):
        return identity
    if not isinstance(identity, str) or not identity:
        raise InvalidParameterError(
            parameter="identity",
            allowed="a credential fingerprint such as credential_identity(auth)",
            value=identity,
        )
    return lambda: identity


def _uncached(response: httpx.Response) -> httpx.Response:
    response.extensions[FROM_CACHE] = False
    return response


class CacheTransport(httpx.BaseTransport):
    """Transport answering repeated GETs from the cache; place it outermost (above retry).

    Args:
        inner: the rest of the stack (retry → rate limit → auth → logging → HTTP).
        store: where responses live (`CacheStore`).
        identity: `credential_identity(auth)`, or a function returning the current one.
        policy: lifetimes per kind of data; `CachePolicy()` by default.
        owns_store: close the store when the transport closes.
        on_hit: called with each request answered from the cache (e.g. to count hits).
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        store: CacheStore,
        *,
        identity: Identity,
        policy: CachePolicy | None = None,
        owns_store: bool = False,
        on_hit: HitHook | None = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self._cache = LoopCache(store, policy, _identity_source(identity), owns_store=owns_store)
        self._flow = _Flow(self._cache, on_hit)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve from the cache, or send and store; after a write, drop what it changed."""
        plan = self._flow.plan(request)
        if plan.action == "invalidate":
            try:
                return _uncached(self.inner.handle_request(request))
            finally:
                self._cache.invalidate(plan)
        hit = self._flow.hit(plan, request)
        if hit is not None:
            return hit
        response = self.inner.handle_request(request)
        if plan.key is not None:
            response.read()
            self._cache.put(plan, response)
        return _uncached(response)

    def close(self) -> None:
        """Close the wrapped transport (and the store, when this transport owns it)."""
        self.inner.close()
        self._cache.close()


class AsyncCacheTransport(httpx.AsyncBaseTransport):
    """Async twin of `CacheTransport`; a store that does network I/O runs in a worker thread."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        store: CacheStore,
        *,
        identity: Identity,
        policy: CachePolicy | None = None,
        owns_store: bool = False,
        on_hit: HitHook | None = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self._cache = LoopCache(store, policy, _identity_source(identity), owns_store=owns_store)
        self._flow = _Flow(self._cache, on_hit)

    async def _run(self, call: Callable[..., Any], *args: Any) -> Any:
        if self._cache.offload:
            return await anyio.to_thread.run_sync(call, *args)
        return call(*args)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve from the cache, or send and store; after a write, drop what it changed."""
        plan: CachePlan = await self._run(self._flow.plan, request)
        if plan.action == "invalidate":
            try:
                return _uncached(await self.inner.handle_async_request(request))
            finally:
                await self._run(self._cache.invalidate, plan)
        hit: httpx.Response | None = await self._run(self._flow.hit, plan, request)
        if hit is not None:
            return hit
        response = await self.inner.handle_async_request(request)
        if plan.key is not None:
            await response.aread()
            await self._run(self._cache.put, plan, response)
        return _uncached(response)

    async def aclose(self) -> None:
        """Close the wrapped transport (and the store, when this transport owns it)."""
        await self.inner.aclose()
        self._cache.close()


def cache_transport(
    inner: httpx.BaseTransport,
    policy: CachePolicy | None = None,
    *,
    identity: Identity,
    store: CacheStore | bool | None = None,
    settings: DiscogsSettings | None = None,
    on_hit: HitHook | None = None,
) -> httpx.BaseTransport:
    """Wrap a sync transport stack in the response cache, or return it unchanged when off.

    Args:
        inner: the stack below the cache (retry → rate limit → auth → logging → HTTP).
        policy: lifetimes per kind of data; `CachePolicy()` by default.
        identity: `credential_identity(auth)`, or a function returning it (never a raw token).
        store: a `CacheStore` to use (shared, not closed with the transport); ``False`` turns
            the cache off; ``True`` turns it on even when ``DISCOGS_CACHE=off``; ``None``
            follows the settings.
        settings: where the default store lives and whether the cache is on
            (``DiscogsSettings()`` when None).
        on_hit: called with each request answered from the cache.
    """
    chosen, owned = resolve_store(store, settings)
    if chosen is None:
        return inner
    return CacheTransport(
        inner, chosen, identity=identity, policy=policy, owns_store=owned, on_hit=on_hit
    )


def async_cache_transport(
    inner: httpx.AsyncBaseTransport,
    policy: CachePolicy | None = None,
    *,
    identity: Identity,
    store: CacheStore | bool | None = None,
    settings: DiscogsSettings | None = None,
    on_hit: HitHook | None = None,
) -> httpx.AsyncBaseTransport:
    """Async twin of `cache_transport` (the same `CacheStore` serves both)."""
    chosen, owned = resolve_store(store, settings)
    if chosen is None:
        return inner
    return AsyncCacheTransport(
        inner, chosen, identity=identity, policy=policy, owns_store=owned, on_hit=on_hit
    )
