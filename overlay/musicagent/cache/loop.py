"""The response cache as the request loop uses it: plan, lookup, store, invalidate.

`Discogs` and `AsyncDiscogs` hand a `LoopCache` to `musicagent.request_loop`: the loop asks it
for a plan before any attempt (a hit stops there, spending no rate budget), stores the final
2xx response it read, and has a write drop what it made stale. The store gets status, headers
and body, never the request, so no credential can reach it. (`cache_transport` offers the same
cache to a plain httpx client.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from musicagent.cache.plan import CachePlan, plan_call, response_from_cache
from musicagent.cache.policy import CachePolicy
from musicagent.cache.store import CacheStore
from musicagent.settings import DiscogsSettings

__all__ = ["LoopCache", "loop_cache", "resolve_store"]


def resolve_store(
    store: CacheStore | bool | None, settings: DiscogsSettings | None
) -> tuple[CacheStore | None, bool]:
    """The store a `cache=` argument and the settings choose, and whether the caller owns it.

    ``False`` turns the cache off; a `CacheStore` is shared (not closed by the client);
    ``True`` turns it on even when ``DISCOGS_CACHE=off``; ``None`` follows the settings.
    """
    if store is False:
        return None, False
    if isinstance(store, CacheStore):
        return store, False
    s = settings if settings is not None else DiscogsSettings()
    if store is None and not s.cache_enabled:
        return None, False
    return CacheStore.from_settings(s), True


class LoopCache:
    """One client's cache: a store, the lifetimes, and the credential identity of the moment.

    Args:
        store: where responses live.
        policy: lifetimes per kind of data.
        identity: returns `credential_identity(auth)` now (a token can be replaced live).
        owns_store: close the store with the client.
    """

    def __init__(
        self,
        store: CacheStore,
        policy: CachePolicy | None,
        identity: Callable[[], str],
        *,
        owns_store: bool,
    ) -> None:
        self.store = store
        self.policy = policy or CachePolicy()
        self.identity = identity
        self.owns_store = owns_store
        self.offload = store.offload

    def plan(self, op: Any, request: httpx.Request, path_arguments: Mapping[str, Any]) -> CachePlan:
        """What the cache does with this call (pure)."""
        scope = self.store.scope(self.identity())
        return plan_call(op, request, path_arguments, self.policy, scope)

    def lookup(self, plan: CachePlan) -> bool:
        """Whether to look the call up before sending (a refresh sends, then replaces)."""
        return plan.action == "lookup"

    def get(self, plan: CachePlan, request: httpx.Request) -> httpx.Response | None:
        """The stored answer, as a response marked `from_cache`, or None."""
        hit = self.store.get(plan)
        return response_from_cache(hit, request) if hit is not None else None

    def put(self, plan: CachePlan, response: httpx.Response) -> None:
        """Store a final response read by the loop (the store keeps only what it may)."""
        if plan.action in ("lookup", "refresh") and plan.key is not None:
            self.store.put(plan, response.status_code, response.headers, response.content)

    def invalidate(self, plan: CachePlan) -> None:
        """Drop the answers a write made stale, for every identity."""
        if plan.patterns:
            self.store.invalidate(plan.patterns)

    def close(self) -> None:
        """Close the store when this client owns it."""
        if self.owns_store:
            self.store.close()


def loop_cache(
    store: CacheStore | bool | None,
    policy: CachePolicy | None,
    identity: Callable[[], str],
    settings: DiscogsSettings,
) -> LoopCache | None:
    """The cache of a new client, or None when it is off."""
    chosen, owned = resolve_store(store, settings)
    if chosen is None:
        return None
    return LoopCache(chosen, policy, identity, owns_store=owned)
