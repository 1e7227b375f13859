"""The HTTP response cache: hits, lifetimes per kind, per-user keys, invalidation, management.

The innermost transport is an `httpx.MockTransport` that counts what reaches it, so every test
asserts request counts, never durations. Time is a fake clock, swapped into the store module so
that stores built from settings see it too. The Redis backend is tested against a real server in
tests/integration/test_redis_cache.py.
"""

from __future__ import annotations

import re
import time
import types
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import httpx
import pytest
from discogs_facade import OPERATIONS

import musicagent.cache.store
from musicagent import AsyncDiscogs, Discogs
from musicagent._executor import OPERATION_ID
from musicagent.cache import (
    CACHE_FILE_NAME,
    AsyncCacheStore,
    AsyncCacheTransport,
    CachedResponse,
    CachePlan,
    CachePolicy,
    CacheScope,
    CacheStore,
    CacheTransport,
    async_cache_transport,
    cache_info,
    cache_key,
    cache_transport,
    clear_cache,
    from_cache,
    key_url,
    match_operation,
    plan_call,
)
from musicagent.cache.backend import Entry, decode_headers, encode_headers, pack_entry, unpack_entry
from musicagent.errors import InvalidParameterError
from musicagent.ratelimit import RateLimiter
from musicagent.settings import DiscogsSettings
from musicagent.stats import ClientStats
from musicagent.wire import AsyncWireTransport, WireRules, WireTransport

BASE = "https://api.discogs.com"
ACCEPT = "application/vnd.discogs.v2.discogs+json"
RATE = {
    "X-Discogs-Ratelimit": "60",
    "X-Discogs-Ratelimit-Used": "7",
    "X-Discogs-Ratelimit-Remaining": "53",
}
HOUR = 3600.0


class FakeClock:
    """Unix time that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Upstream:
    """The innermost transport's handler: answers 200 (or `status`) and records every request."""

    def __init__(
        self, name: str = "upstream", status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.status = status
        self.headers = RATE if headers is None else headers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = {"path": request.url.path, "served_by": self.name, "n": len(self.requests)}
        return httpx.Response(self.status, json=body, headers=self.headers)

    def count(self, path: str | None = None, method: str = "GET") -> int:
        """Requests that reached upstream, for one path (or all) and one method."""
        return sum(
            1 for r in self.requests if r.method == method and (path is None or r.url.path == path)
        )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    frozen = types.SimpleNamespace(time=fake, monotonic=time.monotonic, sleep=time.sleep)
    module = musicagent.cache.store
    assert hasattr(module, "time"), f"{module.__name__} moved its clock; update this fixture"
    monkeypatch.setattr(module, "time", frozen)
    return fake


@pytest.fixture
def store(clock: FakeClock) -> Iterator[CacheStore]:
    with CacheStore.memory(clock=clock) as memory:
        yield memory


def client_for(
    store: CacheStore,
    upstream: Callable[[httpx.Request], httpx.Response],
    *,
    identity: str | Callable[[], str] = "token:alice",
    policy: CachePolicy | None = None,
) -> httpx.Client:
    transport = cache_transport(
        httpx.MockTransport(upstream), policy, identity=identity, store=store
    )
    return httpx.Client(base_url=BASE, headers={"Accept": ACCEPT}, transport=transport)


def async_client_for(
    store: AsyncCacheStore,
    upstream: Callable[[httpx.Request], httpx.Response],
    *,
    identity: str = "token:alice",
    policy: CachePolicy | None = None,
) -> httpx.AsyncClient:
    transport = async_cache_transport(
        httpx.MockTransport(upstream), policy, identity=identity, store=store
    )
    return httpx.AsyncClient(base_url=BASE, headers={"Accept": ACCEPT}, transport=transport)


# --- hits and misses ------------------------------------------------------------------------------


def test_second_identical_get_is_answered_without_reaching_upstream(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        first = http.get("/releases/1")
        second = http.get("/releases/1")
    assert upstream.count() == 1
    assert second.json() == first.json()
    assert not from_cache(first)
    assert from_cache(second)


@pytest.mark.anyio
async def test_async_second_identical_get_is_answered_without_reaching_upstream(
    clock: FakeClock,
) -> None:
    upstream = Upstream()
    async with (
        AsyncCacheStore.memory(clock=clock) as store,
        async_client_for(store, upstream) as http,
    ):
        first = await http.get("/releases/1")
        second = await http.get("/releases/1")
    assert upstream.count() == 1
    assert second.json() == first.json()
    assert from_cache(second)


@pytest.mark.anyio
async def test_async_sqlite_file_store_serves_hits(tmp_path: Path) -> None:
    upstream = Upstream()
    async with (
        AsyncCacheStore.sqlite(tmp_path / "c" / CACHE_FILE_NAME) as store,
        async_client_for(store, upstream) as http,
    ):
        await http.get("/masters/5")
        await http.get("/masters/5")
    assert upstream.count() == 1


def test_query_order_does_not_split_an_entry(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get("/database/search?q=x&type=release")
        http.get("/database/search?type=release&q=x")
    assert upstream.count() == 1


def test_different_accept_formats_are_cached_apart(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get("/releases/1")
        http.get("/releases/1", headers={"Accept": "application/vnd.discogs.v2.html+json"})
        http.get("/releases/1")
    assert upstream.count() == 2


# --- lifetimes per kind ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "ttl"),
    [
        ("/releases/1", 24 * HOUR),
        ("/masters/2/versions", 24 * HOUR),
        ("/releases/1/rating", 24 * HOUR),
        ("/database/search?q=nirvana", HOUR),
        ("/users/alice/collection/folders/0/releases", 300.0),
        ("/users/alice/wants", 300.0),
        ("/marketplace/orders/1-1", 300.0),
        ("/marketplace/listings/3", 300.0),
        ("/marketplace/stats/1", 300.0),
    ],
)
def test_each_kind_stays_fresh_for_its_own_ttl(
    store: CacheStore, clock: FakeClock, path: str, ttl: float
) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get(path)
        clock.advance(ttl - 1)
        http.get(path)
        assert upstream.count() == 1
        clock.advance(2)
        http.get(path)
    assert upstream.count() == 2


@pytest.mark.anyio
async def test_async_entry_expires_after_its_kind_ttl(clock: FakeClock) -> None:
    upstream = Upstream()
    async with (
        AsyncCacheStore.memory(clock=clock) as store,
        async_client_for(store, upstream) as http,
    ):
        await http.get("/database/search?q=x")
        clock.advance(HOUR - 1)
        await http.get("/database/search?q=x")
        clock.advance(2)
        await http.get("/database/search?q=x")
    assert upstream.count() == 2


def test_custom_policy_lifetimes_are_used(store: CacheStore, clock: FakeClock) -> None:
    upstream = Upstream()
    with client_for(store, upstream, policy=CachePolicy(database=10)) as http:
        http.get("/releases/1")
        clock.advance(11)
        http.get("/releases/1")
    assert upstream.count() == 2


def test_kind_without_lifetime_is_never_stored(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream, policy=CachePolicy(user=None)) as http:
        http.get("/users/alice/wants")
        http.get("/users/alice/wants")
        http.get("/releases/1")
        http.get("/releases/1")
    assert upstream.count("/users/alice/wants") == 2
    assert upstream.count("/releases/1") == 1


def test_operation_id_decides_the_kind_before_the_path(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        for _ in range(2):
            http.get("/not-a-discogs-path", extensions={OPERATION_ID: "get_release"})
            http.get("/also-unknown")
    assert upstream.count("/not-a-discogs-path") == 1
    assert upstream.count("/also-unknown") == 2


def test_raw_requests_find_their_operation_by_method_and_path() -> None:
    for operation_id, operation in OPERATIONS.items():
        path = re.sub(r"\{[^}]+\}", "x1", operation.path)
        found = match_operation(operation.method, path)
        assert found is not None and found[0].operation_id == operation_id, operation_id
    assert match_operation("GET", "/users/u/collection/releases/5")[0].operation_id == (  # type: ignore[index]
        "get_collection_items_by_release"
    )
    assert match_operation("GET", "/nowhere") is None


def test_oauth_handshake_is_never_cached(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        for _ in range(2):
            http.get("/oauth/request_token", extensions={OPERATION_ID: "get_request_token"})
    assert upstream.count() == 2
    assert OPERATIONS["get_identity"].cache_kind == "user"


def test_policy_rejects_a_negative_lifetime_naming_the_kind() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        CachePolicy(search=-1)
    assert caught.value.parameter == "search"


# --- per-identity keys ----------------------------------------------------------------------------


def test_two_identities_never_share_an_entry(store: CacheStore) -> None:
    alice, bob = Upstream("alice"), Upstream("bob")
    with (
        client_for(store, alice, identity="token:aaaa") as as_alice,
        client_for(store, bob, identity="token:bbbb") as as_bob,
    ):
        for _ in range(2):
            assert as_alice.get("/users/alice/collection/value").json()["served_by"] == "alice"
            assert as_bob.get("/users/alice/collection/value").json()["served_by"] == "bob"
    assert alice.count() == 1
    assert bob.count() == 1


@pytest.mark.anyio
async def test_async_two_identities_never_share_an_entry(clock: FakeClock) -> None:
    alice, bob = Upstream("alice"), Upstream("bob")
    async with (
        AsyncCacheStore.memory(clock=clock) as store,
        async_client_for(store, alice, identity="token:aaaa") as as_alice,
        async_client_for(store, bob, identity="token:bbbb") as as_bob,
    ):
        for _ in range(2):
            assert (await as_alice.get("/releases/1")).json()["served_by"] == "alice"
            assert (await as_bob.get("/releases/1")).json()["served_by"] == "bob"
    assert (alice.count(), bob.count()) == (1, 1)


def test_identity_function_is_asked_on_every_request(store: CacheStore) -> None:
    upstream = Upstream()
    current = ["token:old"]
    with client_for(store, upstream, identity=lambda: current[0]) as http:
        http.get("/users/me/wants")
        current[0] = "token:new"
        http.get("/users/me/wants")
    assert upstream.count() == 2


def test_empty_identity_is_refused(store: CacheStore) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        cache_transport(httpx.MockTransport(Upstream()), identity="", store=store)
    assert caught.value.parameter == "identity"


def test_key_material_never_holds_a_secret_query_value() -> None:
    url = f"{BASE}/database/search?q=x&token=sekrit-one&key=k3y&secret=s3cr3t"
    material = key_url(url)
    for secret in ("sekrit-one", "k3y", "s3cr3t"):
        assert secret not in material
    other = cache_key("GET", url.replace("sekrit-one", "sekrit-two"), "anonymous", ACCEPT)
    assert cache_key("GET", url, "anonymous", ACCEPT) != other


def test_key_depends_on_method_url_identity_and_accept() -> None:
    base = cache_key("GET", f"{BASE}/releases/1", "token:a", ACCEPT)
    assert base == cache_key("get", f"{BASE}/releases/1#frag", "token:a", ACCEPT)
    assert base != cache_key("HEAD", f"{BASE}/releases/1", "token:a", ACCEPT)
    assert base != cache_key("GET", f"{BASE}/releases/2", "token:a", ACCEPT)
    assert base != cache_key("GET", f"{BASE}/releases/1", "token:b", ACCEPT)
    assert base != cache_key("GET", f"{BASE}/releases/1", "token:a", "application/json")


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"headers": {"Authorization": "Discogs token=abcdef"}},
        {"params": {"token": "abcdef"}},
    ],
)
def test_request_carrying_its_own_credentials_is_not_cached(
    store: CacheStore, request_kwargs: dict[str, Any]
) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get("/releases/1", **request_kwargs)
        http.get("/releases/1", **request_kwargs)
    assert upstream.count() == 2
    assert store.info().entries == 0


# --- what is never stored -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_writes_are_sent_every_time(store: CacheStore, method: str) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.request(method, "/users/alice/wants/5")
        http.request(method, "/users/alice/wants/5")
    assert upstream.count(method=method) == 2
    assert store.info().entries == 0


@pytest.mark.parametrize("status", [404, 429, 500, 503])
def test_error_responses_are_not_stored(store: CacheStore, status: int) -> None:
    failing, working = Upstream(status=status), Upstream()
    with client_for(store, failing) as http:
        assert http.get("/releases/1").status_code == status
        assert http.get("/releases/1").status_code == status
    with client_for(store, working) as http:
        assert http.get("/releases/1").status_code == 200
    assert (failing.count(), working.count()) == (2, 1)


@pytest.mark.parametrize(
    "headers",
    [{"Cache-Control": "no-store"}, {"If-None-Match": '"abc"'}, {"Range": "bytes=0-10"}],
)
def test_no_store_conditional_and_range_requests_bypass_the_cache(
    store: CacheStore, headers: dict[str, str]
) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get("/releases/1")
        http.get("/releases/1", headers=headers)
        http.get("/releases/1", headers=headers)
    assert upstream.count() == 3


def test_no_cache_request_fetches_afresh_and_replaces_the_entry(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get("/releases/1")
        refreshed = http.get("/releases/1", headers={"Cache-Control": "no-cache"})
        later = http.get("/releases/1")
    assert upstream.count() == 2
    assert refreshed.json()["n"] == later.json()["n"] == 2


def test_each_hit_is_reported_to_the_hook(store: CacheStore) -> None:
    hits: list[str] = []
    transport = cache_transport(
        httpx.MockTransport(Upstream()),
        identity="token:alice",
        store=store,
        on_hit=lambda request: hits.append(request.url.path),
    )
    with httpx.Client(base_url=BASE, transport=transport) as http:
        for _ in range(3):
            http.get("/releases/1")
        http.post("/users/alice/wants")
    assert hits == ["/releases/1", "/releases/1"]


def test_rate_limit_headers_are_stored_as_received(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get("/releases/1")
        hit = http.get("/releases/1")
    assert from_cache(hit)
    assert {name: hit.headers[name] for name in RATE} == RATE


# --- the rate limiter sits below the cache --------------------------------------------------------


def _rules(limiter: RateLimiter) -> WireRules:
    return WireRules(
        limiter=limiter, stats=ClientStats(), total_timeout=None, max_response_bytes=1 << 20
    )


def test_hits_never_reach_the_rate_limiter(store: CacheStore) -> None:
    upstream = Upstream(headers={})
    limiter = RateLimiter(60, 60.0)
    limited = WireTransport(httpx.MockTransport(upstream), _rules(limiter))
    transport = cache_transport(limited, identity="token:alice", store=store)
    with httpx.Client(base_url=BASE, transport=transport) as http:
        for _ in range(5):
            http.get("/releases/1")
    assert upstream.count() == 1
    assert limiter.status().used == 1


@pytest.mark.anyio
async def test_async_hits_never_reach_the_rate_limiter(clock: FakeClock) -> None:
    upstream = Upstream(headers={})
    limiter = RateLimiter(60, 60.0)
    limited = AsyncWireTransport(httpx.MockTransport(upstream), _rules(limiter))
    async with AsyncCacheStore.memory(clock=clock) as store:
        transport = async_cache_transport(limited, identity="token:alice", store=store)
        async with httpx.AsyncClient(base_url=BASE, transport=transport) as http:
            for _ in range(5):
                await http.get("/releases/1")
    assert upstream.count() == 1
    assert limiter.status().used == 1


def collection_page(number: int, pages: int) -> dict[str, Any]:
    url = f"{BASE}/users/alice/collection/folders/0/releases"
    urls = {"next": f"{url}?page={number + 1}&per_page=100"} if number < pages else {}
    item = {"id": number, "instance_id": number, "basic_information": {"id": number}}
    return {
        "pagination": {
            "page": number,
            "pages": pages,
            "per_page": 100,
            "items": pages,
            "urls": urls,
        },
        "releases": [item],
    }


class CollectionUpstream(Upstream):
    """Serves three pages of alice's collection."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = collection_page(int(request.url.params["page"]), 3)
        return httpx.Response(200, json=body)


def test_second_walk_within_ttl_sends_zero_requests(store: CacheStore) -> None:
    upstream = CollectionUpstream()
    limiter = RateLimiter(60, 60.0)
    with Discogs(
        "personal-token-123",
        base_url=BASE,
        transport=httpx.MockTransport(upstream),
        cache=store,
        rate_limiter=limiter,
    ) as client:
        first = [i.id for i in client.collection.iter_collection_items_by_folder("alice", 0)]
        sent = upstream.count()
        second = [i.id for i in client.collection.iter_collection_items_by_folder("alice", 0)]
        assert client.stats.cache_hits == 3
    assert first == second == [1, 2, 3]
    assert sent == 3
    assert upstream.count() == 3
    assert all("authorization" in r.headers for r in upstream.requests)
    # Hits spend no rate budget.
    assert limiter.status().used == 3


@pytest.mark.anyio
async def test_async_second_walk_within_ttl_sends_zero_requests(clock: FakeClock) -> None:
    upstream = CollectionUpstream()
    async with (
        AsyncCacheStore.memory(clock=clock) as store,
        AsyncDiscogs(
            "personal-token-123",
            base_url=BASE,
            transport=httpx.MockTransport(upstream),
            cache=store,
            rate_limiter=False,
        ) as client,
    ):
        walk = client.collection.iter_collection_items_by_folder
        first = [item.id async for item in walk("alice", 0)]
        second = [item.id async for item in walk("alice", 0)]
    assert first == second == [1, 2, 3]
    assert upstream.count() == 3


# --- writes invalidate what they change -----------------------------------------------------------


INVALIDATIONS = [
    pytest.param(
        "POST",
        "/users/alice/collection/folders/1/releases/5",
        [
            "/users/alice/collection/folders/0/releases",
            "/users/alice/collection/value",
            "/users/alice",
        ],
        ["/users/bob/collection/folders/0/releases", "/users/alice/wants", "/releases/5"],
        id="collection",
    ),
    pytest.param(
        "DELETE",
        "/users/alice/wants/5",
        ["/users/alice/wants", "/users/alice"],
        ["/users/alice/collection/folders/0/releases", "/users/bob/wants"],
        id="wantlist",
    ),
    pytest.param(
        "POST",
        "/marketplace/listings/9",
        ["/marketplace/listings/9", "/users/alice/inventory", "/users/bob/inventory"],
        ["/marketplace/listings/10", "/users/alice/wants"],
        id="listing",
    ),
    pytest.param(
        "POST",
        "/marketplace/orders/1-1",
        ["/marketplace/orders/1-1", "/marketplace/orders/1-1/messages", "/marketplace/orders"],
        ["/marketplace/orders/2-2", "/marketplace/orders/2-2/messages"],
        id="order",
    ),
    pytest.param(
        "POST",
        "/marketplace/orders/1-1/messages",
        ["/marketplace/orders/1-1", "/marketplace/orders/1-1/messages"],
        ["/marketplace/orders/2-2"],
        id="order-message",
    ),
    pytest.param(
        "PUT",
        "/releases/5/rating/alice",
        ["/releases/5/rating/alice", "/releases/5/rating", "/releases/5"],
        ["/releases/6/rating", "/releases/5/stats", "/masters/5"],
        id="rating",
    ),
    pytest.param(
        "POST",
        "/inventory/upload/add",
        ["/inventory/upload", "/inventory/upload/7", "/users/alice/inventory"],
        ["/inventory/export", "/users/alice/wants"],
        id="inventory-upload",
    ),
]


@pytest.mark.parametrize(("method", "write", "dropped", "kept"), INVALIDATIONS)
def test_write_drops_the_cached_responses_it_changes(
    store: CacheStore, method: str, write: str, dropped: list[str], kept: list[str]
) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        for path in dropped + kept:
            http.get(path)
        http.request(method, write)
        for path in dropped + kept:
            http.get(path)
    assert {path: upstream.count(path) for path in dropped} == dict.fromkeys(dropped, 2)
    assert {path: upstream.count(path) for path in kept} == dict.fromkeys(kept, 1)


def patterns_of(method: str, path: str) -> tuple[str, ...]:
    request = httpx.Request(method, BASE + path)
    plan = plan_call(None, request, {}, CachePolicy(), CacheScope("f"))
    assert plan.action == "invalidate"
    return plan.patterns


@pytest.mark.parametrize(("method", "write", "dropped", "kept"), INVALIDATIONS)
def test_invalidation_patterns_match_exactly_the_dropped_paths(
    method: str, write: str, dropped: list[str], kept: list[str]
) -> None:
    patterns = patterns_of(method, write)
    assert all(any(fnmatchcase(path, p) for p in patterns) for path in dropped)
    assert not any(any(fnmatchcase(path, p) for p in patterns) for path in kept)


def test_glob_characters_in_a_path_are_matched_literally() -> None:
    patterns = patterns_of("DELETE", "/users/a*b/wants/1")
    assert any(fnmatchcase("/users/a*b/wants", p) for p in patterns)
    assert not any(fnmatchcase("/users/aXYZb/wants", p) for p in patterns)


def test_write_drops_the_entries_of_every_identity(store: CacheStore) -> None:
    alice, bob = Upstream("alice"), Upstream("bob")
    with (
        client_for(store, alice, identity="token:aaaa") as as_alice,
        client_for(store, bob, identity="token:bbbb") as as_bob,
    ):
        as_bob.get("/users/alice/wants")
        as_alice.put("/users/alice/wants/5")
        as_bob.get("/users/alice/wants")
    assert bob.count("/users/alice/wants") == 2


def test_failed_write_still_invalidates(store: CacheStore) -> None:
    upstream = Upstream()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("the write may have landed", request=request)
        return upstream(request)

    with client_for(store, answer) as http:
        http.get("/users/alice/collection/folders")
        with pytest.raises(httpx.ReadTimeout):
            http.post("/users/alice/collection/folders")
        http.get("/users/alice/collection/folders")
    assert upstream.count() == 2


@pytest.mark.anyio
async def test_async_write_drops_the_cached_responses_it_changes(clock: FakeClock) -> None:
    upstream = Upstream()
    async with (
        AsyncCacheStore.memory(clock=clock) as store,
        async_client_for(store, upstream) as http,
    ):
        await http.get("/users/alice/collection/folders/0/releases")
        await http.get("/releases/5")
        await http.post("/users/alice/collection/folders/1/releases/5")
        await http.get("/users/alice/collection/folders/0/releases")
        await http.get("/releases/5")
    assert upstream.count("/users/alice/collection/folders/0/releases") == 2
    assert upstream.count("/releases/5") == 1


# --- turning the cache off, choosing the store ----------------------------------------------------


def test_disabled_cache_returns_the_inner_transport_unchanged(tmp_path: Path) -> None:
    inner = httpx.MockTransport(Upstream())
    off = DiscogsSettings(cache="off", cache_dir=tmp_path / "cache")
    assert cache_transport(inner, identity="anonymous", store=False) is inner
    assert cache_transport(inner, identity="anonymous", settings=off) is inner
    assert not (tmp_path / "cache").exists()
    forced = cache_transport(inner, identity="anonymous", store=True, settings=off)
    assert isinstance(forced, CacheTransport)
    forced.close()


def test_async_disabled_cache_returns_the_inner_transport_unchanged(tmp_path: Path) -> None:
    inner = httpx.MockTransport(Upstream())
    off = DiscogsSettings(cache="off", cache_dir=tmp_path)
    assert async_cache_transport(inner, identity="anonymous", store=False) is inner
    assert async_cache_transport(inner, identity="anonymous", settings=off) is inner
    on = async_cache_transport(inner, identity="anonymous", settings=off, store=True)
    assert isinstance(on, AsyncCacheTransport)


def test_disabled_cache_sends_every_request(tmp_path: Path) -> None:
    upstream = Upstream()
    off = DiscogsSettings(cache="off", cache_dir=tmp_path)
    transport = cache_transport(httpx.MockTransport(upstream), identity="a", settings=off)
    with httpx.Client(base_url=BASE, transport=transport) as http:
        http.get("/releases/1")
        http.get("/releases/1")
    assert upstream.count() == 2


def test_default_store_is_a_sqlite_file_in_the_cache_dir(tmp_path: Path) -> None:
    upstream = Upstream()
    settings = DiscogsSettings(cache_dir=tmp_path / "nested" / "cache")
    transport = cache_transport(httpx.MockTransport(upstream), identity="a", settings=settings)
    with httpx.Client(base_url=BASE, transport=transport) as http:
        http.get("/releases/1")
    assert (tmp_path / "nested" / "cache" / CACHE_FILE_NAME).is_file()
    # A new client (a new process, say) finds the response on disk.
    again = cache_transport(httpx.MockTransport(upstream), identity="a", settings=settings)
    with httpx.Client(base_url=BASE, transport=again) as http:
        assert from_cache(http.get("/releases/1"))
    assert upstream.count() == 1


def test_shared_store_outlives_a_closed_client(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get("/releases/1")
    with client_for(store, upstream) as http:
        assert from_cache(http.get("/releases/1"))
    assert upstream.count() == 1


# --- cache info / clear ---------------------------------------------------------------------------


def fill_file_cache(settings: DiscogsSettings, upstream: Upstream, *paths: str) -> None:
    transport = cache_transport(httpx.MockTransport(upstream), identity="a", settings=settings)
    with httpx.Client(base_url=BASE, transport=transport) as http:
        for path in paths:
            http.get(path)


def test_info_reports_entries_size_and_ages_and_clear_empties_the_cache(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = DiscogsSettings(cache_dir=tmp_path)
    upstream = Upstream()
    fill_file_cache(settings, upstream, "/releases/1")
    clock.advance(60)
    fill_file_cache(settings, upstream, "/users/alice/wants", "/releases/2")

    info = cache_info(settings)
    assert (info.backend, info.location) == ("sqlite", str(tmp_path / CACHE_FILE_NAME))
    assert info.entries == 3
    assert info.entries_by_kind == {"database": 2, "user": 1}
    assert info.size_bytes is not None and info.size_bytes > 0
    assert info.oldest is not None and info.newest is not None
    assert (info.newest - info.oldest).total_seconds() == 60
    assert info.enabled

    assert clear_cache(settings) == 3
    assert cache_info(settings).entries == 0
    fill_file_cache(settings, upstream, "/releases/1")
    assert upstream.count("/releases/1") == 2


def test_info_counts_only_fresh_entries(tmp_path: Path, clock: FakeClock) -> None:
    settings = DiscogsSettings(cache_dir=tmp_path)
    fill_file_cache(settings, Upstream(), "/releases/1", "/users/alice/wants")
    clock.advance(301)
    assert cache_info(settings).entries_by_kind == {"database": 1}


def test_info_and_clear_of_a_missing_cache_create_nothing(tmp_path: Path) -> None:
    settings = DiscogsSettings(cache_dir=tmp_path / "never", cache="off")
    info = cache_info(settings)
    assert (info.entries, info.size_bytes, info.enabled) == (0, 0, False)
    assert clear_cache(settings) == 0
    assert not (tmp_path / "never").exists()


def test_memory_store_clear_removes_every_entry(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        http.get("/releases/1")
        http.get("/labels/1")
        assert store.clear() == 2
        http.get("/releases/1")
    assert upstream.count("/releases/1") == 2


# --- the store API the request loop calls ---------------------------------------------------------


def release_plan(store: CacheStore, identity: str = "token:alice", **headers: str) -> CachePlan:
    request = httpx.Request("GET", f"{BASE}/releases/1", headers={"Accept": ACCEPT, **headers})
    op = OPERATIONS["get_release"]
    return plan_call(op, request, {"release_id": 1}, CachePolicy(), store.scope(identity))


def test_plan_get_put_round_trip_returns_the_stored_response(store: CacheStore) -> None:
    plan = release_plan(store)
    assert (plan.action, plan.kind, plan.ttl) == ("lookup", "database", 24 * HOUR)
    assert store.get(plan) is None
    headers = httpx.Headers({"Content-Type": "application/json", **RATE})
    assert store.put(plan, 200, headers, b'{"id": 1}')
    hit = store.get(plan)
    assert isinstance(hit, CachedResponse)
    assert (hit.status, hit.body) == (200, b'{"id": 1}')
    assert ("Content-Type", "application/json") in hit.headers


# Header values as httpx decodes them (latin-1), with what JSON must escape.
AWKWARD_HEADERS = [
    ("Content-Type", "application/json"),
    ("Content-Disposition", 'attachment; filename="Caf\u00e9 \u00bd\\x.csv"'),
    ("X-Note", "tab\there \u00ff"),
]


@pytest.mark.parametrize("backend", ["sqlite", "packed"])
def test_a_hit_gives_back_awkward_header_values_exactly(
    backend: str, tmp_path: Path, clock: FakeClock
) -> None:
    # SQLite keeps the encoded header list in a row; Redis keeps it packed into one value.
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in AWKWARD_HEADERS]
    if backend == "packed":
        entry = Entry("k", "/releases/1", "database", 200, AWKWARD_HEADERS, b"{}", 1.0, 2.0)
        hit = unpack_entry(pack_entry(entry))
    else:
        with CacheStore.sqlite(tmp_path / "cache.db", clock=clock) as sqlite:
            plan = release_plan(sqlite)
            assert sqlite.put(plan, 200, httpx.Headers(raw), b"{}")
            hit = sqlite.get(plan)
    assert hit is not None
    assert hit.headers == AWKWARD_HEADERS


def test_rows_written_with_escaped_header_text_still_decode() -> None:
    # Rows stored before the headers were written as UTF-8 JSON spell non-ASCII as \u escapes.
    assert decode_headers('[["X-Note","Caf\\u00e9"]]') == [("X-Note", "Caf\u00e9")]
    assert decode_headers(encode_headers([("X-Note", "Caf\u00e9")])) == [("X-Note", "Caf\u00e9")]


def test_put_drops_credential_cookie_and_transfer_headers(store: CacheStore) -> None:
    plan = release_plan(store)
    headers = httpx.Headers(
        [
            ("Content-Type", "application/json"),
            ("Set-Cookie", "session=abc"),
            ("Authorization", "Discogs token=abcdef"),
            ("WWW-Authenticate", "OAuth realm=x"),
            ("X-Echo-Token", "abcdef"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", "9"),
        ]
    )
    store.put(plan, 200, headers, b'{"id": 1}')
    hit = store.get(plan)
    assert hit is not None
    assert [name.lower() for name, _ in hit.headers] == ["content-type"]


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (404, {}, b"{}"),
        (500, {}, b"{}"),
        (304, {}, b""),
        (200, {"Cache-Control": "no-store"}, b"{}"),
        (200, {"Cache-Control": "private, No-Store"}, b"{}"),
    ],
)
def test_put_refuses_errors_and_no_store_answers(
    store: CacheStore, status: int, headers: dict[str, str], body: bytes
) -> None:
    plan = release_plan(store)
    assert not store.put(plan, status, httpx.Headers(headers), body)
    assert store.get(plan) is None


def test_put_refuses_a_body_over_the_limit() -> None:
    store = CacheStore(musicagent.cache.store.MemoryBackend(), max_entry_bytes=1000)
    plan = release_plan(store)
    assert not store.put(plan, 200, httpx.Headers(), b"x" * 1001)
    assert store.put(plan, 200, httpx.Headers(), b"x" * 1000)


def test_put_drops_a_header_echoing_a_registered_secret(store: CacheStore) -> None:
    from musicagent.masking import forget_secret, register_secret

    secret = "echoed-secret-4b1d9e"
    register_secret(secret)
    try:
        plan = release_plan(store)
        assert store.put(plan, 200, httpx.Headers({"X-Seen": f"v={secret}", "X-Ok": "1"}), b"{}")
    finally:
        forget_secret(secret)
    hit = store.get(plan)
    assert hit is not None and hit.headers == [("X-Ok", "1")]


def test_response_sent_with_no_store_is_never_cached(store: CacheStore) -> None:
    upstream = Upstream(headers={"Cache-Control": "no-store"})
    with client_for(store, upstream) as http:
        http.get("/releases/1")
        http.get("/releases/1")
    assert upstream.count() == 2
    assert store.info().entries == 0


def test_refresh_plan_is_never_answered_and_its_put_replaces_the_entry(store: CacheStore) -> None:
    plan = release_plan(store)
    store.put(plan, 200, httpx.Headers(), b"old")
    refresh = release_plan(store, **{"Cache-Control": "no-cache"})
    assert refresh.action == "refresh" and refresh.key == plan.key
    assert store.get(refresh) is None
    store.put(refresh, 200, httpx.Headers(), b"new")
    hit = store.get(plan)
    assert hit is not None and hit.body == b"new"
    # A refresh whose answer cannot be stored drops the stale one.
    store.put(refresh, 503, httpx.Headers(), b"")
    assert store.get(plan) is None


def test_scope_is_keyed_memoised_and_never_the_identity(store: CacheStore) -> None:
    alice = store.scope("token:alice")
    assert alice is store.scope("token:alice")
    assert alice.fingerprint is not None and "alice" not in alice.fingerprint
    assert alice != store.scope("token:bob")
    # Another store has another salt: fingerprints cannot be compared across stores.
    assert CacheStore.memory().scope("token:alice") != alice
    assert "token" not in repr(alice)


def test_invalidate_drops_paths_of_every_identity_and_counts_them(store: CacheStore) -> None:
    for identity in ("token:alice", "token:bob"):
        scope = store.scope(identity)
        for path in ("/users/alice/wants", "/users/alice/collection/value"):
            request = httpx.Request("GET", BASE + path)
            op, _ = match_operation("GET", path) or (None, {})
            plan = plan_call(op, request, {}, CachePolicy(), scope)
            store.put(plan, 200, httpx.Headers(), b"{}")
    write = OPERATIONS["delete_from_wantlist"]
    request = httpx.Request("DELETE", f"{BASE}/users/alice/wants/5")
    plan = plan_call(
        write,
        request,
        {"username": "alice", "release_id": 5},
        CachePolicy(),
        store.scope("token:alice"),
    )
    assert plan.action == "invalidate"
    assert store.invalidate(plan.patterns) == 2
    assert store.info().entries_by_kind == {"user": 2}


def test_unavailable_scope_bypasses_the_cache() -> None:
    request = httpx.Request("GET", f"{BASE}/releases/1")
    plan = plan_call(OPERATIONS["get_release"], request, {}, CachePolicy(), CacheScope(None))
    assert plan.action == "bypass" and plan.key is None


def test_head_and_unknown_paths_bypass_and_unknown_writes_invalidate_their_subtree() -> None:
    scope = CacheScope("f")
    head = plan_call(None, httpx.Request("HEAD", f"{BASE}/releases/1"), {}, CachePolicy(), scope)
    assert head.action == "bypass"
    unknown = plan_call(None, httpx.Request("POST", f"{BASE}/a/b"), {}, CachePolicy(), scope)
    assert unknown.patterns == ("/a/b", "/a/b/*", "/a")


def test_store_is_one_class_for_sync_and_async_clients() -> None:
    assert AsyncCacheStore is CacheStore
    assert not CacheStore.memory().offload


# --- every operation has a deliberate policy in the spec -----------------------------------------


def test_every_operation_states_its_cache_policy_in_the_spec(spec: dict[str, Any]) -> None:
    kinds = {"database", "search", "user", "marketplace", None}
    for path, item in spec["paths"].items():
        for method, raw in item.items():
            if method not in {"get", "post", "put", "patch", "delete", "head"}:
                continue
            where = f"{method.upper()} {path} ({raw['operationId']})"
            assert isinstance(raw.get("x-musicagent-replay-safe"), bool), where
            if method == "get":
                assert "x-musicagent-cache" in raw, f"{where}: a cache kind or an explicit null"
                assert raw["x-musicagent-cache"] in kinds, where
                assert "x-musicagent-invalidates" not in raw, where
                assert raw["x-musicagent-replay-safe"] is True, where
            else:
                assert isinstance(raw.get("x-musicagent-invalidates"), list), (
                    f"{where}: a write lists what it invalidates (an empty list if nothing)"
                )
                assert "x-musicagent-cache" not in raw, where
                for template in raw["x-musicagent-invalidates"]:
                    names = set(re.findall(r"\{(\w+)\}", template))
                    assert names <= set(re.findall(r"\{(\w+)\}", path)), (where, template)
            operation = OPERATIONS[raw["operationId"]]
            assert operation.cache_kind == raw.get("x-musicagent-cache"), where
            assert operation.invalidates == tuple(raw.get("x-musicagent-invalidates", ())), where
            assert operation.replay_safe == raw["x-musicagent-replay-safe"], where


def test_writes_that_create_or_message_are_not_replay_safe() -> None:
    for operation_id in ("create_listing", "add_order_message", "create_collection_folder"):
        assert not OPERATIONS[operation_id].replay_safe, operation_id
    for operation_id in ("update_release_rating_by_user", "delete_from_wantlist"):
        assert OPERATIONS[operation_id].replay_safe, operation_id


# --- the SQLite file: one write per miss, WAL, private modes, the earlier format dropped ---------


def sqlite_store(tmp_path: Path) -> CacheStore:
    return CacheStore.sqlite(tmp_path / "cache" / CACHE_FILE_NAME)


def test_cache_folder_is_0700_and_its_files_0600(tmp_path: Path) -> None:
    with sqlite_store(tmp_path) as store:
        plan = release_plan(store)
        store.put(plan, 200, httpx.Headers(), b"{}")
        assert store.get(plan) is not None
        folder = tmp_path / "cache"
        assert folder.stat().st_mode & 0o777 == 0o700
        files = list(folder.iterdir())
        assert {f.name for f in files} >= {CACHE_FILE_NAME, CACHE_FILE_NAME + "-wal"}
        assert {f.name: f.stat().st_mode & 0o777 for f in files} == dict.fromkeys(
            (f.name for f in files), 0o600
        )


def test_an_existing_cache_folder_and_file_of_an_earlier_version_are_made_private(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    (folder / CACHE_FILE_NAME).touch(mode=0o644)
    (folder / CACHE_FILE_NAME).chmod(0o644)
    with sqlite_store(tmp_path) as store:
        store.put(release_plan(store), 200, httpx.Headers(), b"{}")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / CACHE_FILE_NAME).stat().st_mode & 0o777 == 0o600


def test_a_folder_holding_more_than_the_cache_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o755)
    (folder / "notes.txt").write_text("mine")
    with sqlite_store(tmp_path) as store:
        store.put(release_plan(store), 200, httpx.Headers(), b"{}")
    assert folder.stat().st_mode & 0o777 == 0o755
    assert (folder / CACHE_FILE_NAME).stat().st_mode & 0o777 == 0o600


def test_tables_of_the_earlier_format_and_the_credentials_in_them_are_dropped(
    tmp_path: Path,
) -> None:
    import sqlite3

    file = tmp_path / "cache" / CACHE_FILE_NAME
    file.parent.mkdir()
    legacy = sqlite3.connect(file)
    legacy.execute("CREATE TABLE entries (id BLOB, data BLOB)")
    legacy.execute("CREATE TABLE streams (id BLOB, data BLOB)")
    legacy.execute("INSERT INTO entries VALUES (x'00', 'Authorization: Discogs token=oldsecret1')")
    legacy.commit()
    legacy.close()
    with CacheStore.sqlite(file) as store:
        store.put(release_plan(store), 200, httpx.Headers(), b"{}")
    assert b"oldsecret1" not in b"".join(p.read_bytes() for p in file.parent.iterdir())
    with sqlite3.connect(file) as db:
        tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "entries" not in tables and "streams" not in tables


def test_sqlite_store_shares_entries_and_salt_across_connections(tmp_path: Path) -> None:
    with sqlite_store(tmp_path) as first:
        plan = release_plan(first)
        first.put(plan, 200, httpx.Headers(), b"shared")
    with sqlite_store(tmp_path) as second:
        again = release_plan(second)
        assert again.key == plan.key
        hit = second.get(again)
    assert hit is not None and hit.body == b"shared"
