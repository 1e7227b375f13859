"""HTTP response cache for the Discogs API: per-credential keys, per-kind lifetimes, write
invalidation, and never a credential in what it stores.

What is cached, and for how long, is per operation in the spec (``x-musicagent-cache``: a
kind, or null for never) with lifetimes per kind in `CachePolicy`: database objects 24 hours,
search results 1 hour, user and marketplace data 5 minutes. Only 2xx ``GET`` responses are
stored, never one sent with ``Cache-Control: no-store``; requests carrying their own
credentials, conditional and range requests, and requests sent with ``no-store`` bypass the
cache; ``no-cache`` or ``max-age=0`` fetch afresh and replace the stored answer. A write drops
the cached answers its operation lists (``x-musicagent-invalidates``), for every identity.

The modules: `policy` (lifetimes and keys), `plan` (one pure decision per call), `store`
(`CacheStore`: what may be stored, failures contained), `sqlite_store`, `redis_store`,
`memory_store` (the backends), `management` (``musicagent cache info|clear``) and `transport`
(httpx transports over the store)::

    scope = store.scope(credential_identity(auth))
    plan = plan_call(op, request, path_arguments, policy, scope)
    hit = store.get(plan) or (send, then store.put(plan, status, headers, body))

Nothing stored identifies or proves a credential: keys are SHA-256 hashes that include an HMAC
fingerprint of the identity under a random salt kept with the store; credential and cookie
headers are dropped; the SQLite folder is 0700 and its files 0600. A failing store never fails
a request: one warning on ``musicagent.cache``, then the call goes on without the cache.
"""

from __future__ import annotations

from musicagent.cache.backend import Backend, Entry, Summary
from musicagent.cache.management import cache_info, clear_cache
from musicagent.cache.plan import (
    FROM_CACHE,
    CachedResponse,
    CachePlan,
    fill_template,
    from_cache,
    match_operation,
    path_arguments,
    plan_call,
    response_from_cache,
)
from musicagent.cache.policy import KINDS, CacheKind, CachePolicy, CacheScope, cache_key, key_url
from musicagent.cache.redis_store import REDIS_KEY_PREFIX
from musicagent.cache.sqlite_store import CACHE_FILE_NAME
from musicagent.cache.store import (
    AsyncCacheStore,
    CacheInfo,
    CacheStore,
    cache_file_path,
    storable_headers,
)
from musicagent.cache.transport import (
    AsyncCacheTransport,
    CacheTransport,
    HitHook,
    Identity,
    async_cache_transport,
    cache_transport,
    plan_request,
)

__all__ = [
    "CACHE_FILE_NAME",
    "FROM_CACHE",
    "KINDS",
    "REDIS_KEY_PREFIX",
    "AsyncCacheStore",
    "AsyncCacheTransport",
    "Backend",
    "CacheInfo",
    "CacheKind",
    "CachePlan",
    "CachePolicy",
    "CacheScope",
    "CacheStore",
    "CacheTransport",
    "CachedResponse",
    "Entry",
    "HitHook",
    "Identity",
    "Summary",
    "async_cache_transport",
    "cache_file_path",
    "cache_info",
    "cache_key",
    "cache_transport",
    "clear_cache",
    "fill_template",
    "from_cache",
    "key_url",
    "match_operation",
    "path_arguments",
    "plan_call",
    "plan_request",
    "response_from_cache",
    "storable_headers",
]
