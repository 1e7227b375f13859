"""The HTTP response cache: hits, lifetimes per kind, per-user keys, invalidation, management.

The innermost transport is an `httpx.MockTransport` that counts what reaches it, so every test
asserts request counts, never durations. Time is a fake clock: hishel's storages read
`time.time()` with no clock parameter, so the fixture swaps the `time` module they see.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import hishel
import httpx
import pytest
from discogs_facade import OPERATIONS, AsyncResources, Resources
from hishel._core._storages import _async_redis, _async_sqlite, _sync_redis, _sync_sqlite

import musicagent.cache
from musicagent._executor import OPERATION_ID, AsyncExecutor, SyncExecutor
from musicagent.auth import credential_identity
from musicagent.cache import (
    CACHE_FILE_NAME,
    AsyncCacheStore,
    AsyncCacheTransport,
    CachePolicy,
    CacheStore,
    CacheTransport,
    async_cache_transport,
    cache_info,
    cache_key,
    cache_transport,
    clear_cache,
    from_cache,
    invalidation_patterns,
    key_url,
    kind_of_operation,
    kind_of_path,
)
from musicagent.client import ClientConfig
from musicagent.errors import InvalidParameterError
from musicagent.ratelimit import AsyncRateLimitTransport, RateLimiter, RateLimitTransport
from musicagent.settings import DiscogsSettings

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
    for module in (_sync_sqlite, _async_sqlite, musicagent.cache):
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


def test_every_operation_is_classified_alike_by_id_and_by_path() -> None:
    for operation_id, operation in OPERATIONS.items():
        assert kind_of_operation(operation_id) == kind_of_path(operation.path), operation_id


def test_oauth_handshake_is_never_cached(store: CacheStore) -> None:
    upstream = Upstream()
    with client_for(store, upstream) as http:
        for _ in range(2):
            http.get("/oauth/request_token", extensions={OPERATION_ID: "get_request_token"})
    assert upstream.count() == 2
    assert kind_of_path("/oauth/identity") == "user"


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


def test_hits_never_reach_the_rate_limiter(store: CacheStore) -> None:
    upstream = Upstream(headers={})
    limiter = RateLimiter(60, 60.0)
    limited = RateLimitTransport(httpx.MockTransport(upstream), limiter)
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
    limited = AsyncRateLimitTransport(httpx.MockTransport(upstream), limiter)
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


def test_second_export_within_ttl_sends_zero_requests(store: CacheStore) -> None:
    upstream = CollectionUpstream()
    config = ClientConfig.resolve(
        "personal-token-123",
        consumer_key=None,
        consumer_secret=None,
        oauth=None,
        user_agent=None,
        base_url=BASE,
        settings=DiscogsSettings(),
        rate_limiter=RateLimiter(60, 60.0),
        retry_policy=None,
        timeout=None,
        text_format="discogs",
        strict=None,
    )
    stack = config.transport(httpx.MockTransport(upstream))
    transport = cache_transport(stack, identity=credential_identity(config.auth), store=store)
    with httpx.Client(base_url=BASE, headers=config.headers(), transport=transport) as http:
        groups = Resources(SyncExecutor(http))
        first = [i.id for i in groups.collection.iter_collection_items_by_folder("alice", 0)]
        sent = upstream.count()
        second = [i.id for i in groups.collection.iter_collection_items_by_folder("alice", 0)]
    assert first == second == [1, 2, 3]
    assert sent == 3
    assert upstream.count() == 3
    assert all("authorization" in r.headers for r in upstream.requests)
    assert config.limiter is not None and config.limiter.status().used == 3


@pytest.mark.anyio
async def test_async_second_export_within_ttl_sends_zero_requests(clock: FakeClock) -> None:
    upstream = CollectionUpstream()
    async with AsyncCacheStore.memory(clock=clock) as store:
        transport = async_cache_transport(
            httpx.MockTransport(upstream), identity="token:x", store=store
        )
        async with httpx.AsyncClient(base_url=BASE, transport=transport) as http:
            groups = AsyncResources(AsyncExecutor(http))
            walk = groups.collection.iter_collection_items_by_folder
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


@pytest.mark.parametrize(("method", "write", "dropped", "kept"), INVALIDATIONS)
def test_invalidation_patterns_match_exactly_the_dropped_paths(
    method: str, write: str, dropped: list[str], kept: list[str]
) -> None:
    patterns = invalidation_patterns(write)
    assert all(any(fnmatchcase(path, p) for p in patterns) for path in dropped)
    assert not any(any(fnmatchcase(path, p) for p in patterns) for path in kept)


def test_glob_characters_in_a_path_are_matched_literally() -> None:
    patterns = invalidation_patterns("/users/a*b/wants/1")
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


# --- Redis, with a fake client (no server) --------------------------------------------------------


class FakeRedis:
    """The few Redis commands the cache index uses, on a dict; hishel's storage gets it too."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.closed = False

    @classmethod
    def from_url(cls, url: str) -> FakeRedis:
        return cls(FAKE_SERVER.setdefault(url, {}))

    def hset(self, name: str, key: str, value: str) -> None:
        self.data.setdefault(name, {})[key.encode()] = value.encode()

    def hgetall(self, name: str) -> dict[bytes, bytes]:
        return dict(self.data.get(name, {}))

    def hdel(self, name: str, *keys: str) -> None:
        for key in keys:
            self.data.get(name, {}).pop(key.encode(), None)

    def scan_iter(self, match: str) -> Iterator[bytes]:
        return iter([key.encode() for key in list(self.data) if fnmatchcase(key, match)])

    def delete(self, *keys: bytes) -> None:
        for key in keys:
            self.data.pop(key.decode(), None)

    def zrangebyscore(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def close(self) -> None:
        self.closed = True


FAKE_SERVER: dict[str, dict[str, Any]] = {}
REDIS_URL = "redis://:hunter22@cache.example:6379/0"


@pytest.fixture
def fake_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    FAKE_SERVER.clear()
    module = types.ModuleType("redis")
    module.Redis = FakeRedis  # type: ignore[attr-defined]
    module.asyncio = types.SimpleNamespace(Redis=FakeRedis)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "redis", module)
    # hishel looked for redis when it was imported, before the fake existed.
    monkeypatch.setattr(_sync_redis, "Redis", FakeRedis)
    monkeypatch.setattr(_async_redis, "Redis", FakeRedis)


def redis_settings() -> DiscogsSettings:
    return DiscogsSettings(cache_backend="redis", redis_url=REDIS_URL)


def test_redis_backend_without_the_redis_package_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match="pip install redis"):
        CacheStore.from_settings(redis_settings())
    with pytest.raises(ImportError, match="pip install redis"):
        cache_transport(httpx.MockTransport(Upstream()), identity="a", settings=redis_settings())


@pytest.mark.usefixtures("fake_redis")
def test_redis_backend_is_chosen_from_settings_with_its_password_masked() -> None:
    with CacheStore.from_settings(redis_settings()) as store:
        assert isinstance(store.storage, hishel.RedisStorage)
        assert store.backend == "redis"
        assert "hunter22" not in store.location
        assert "cache.example:6379" in store.location
    async_store = AsyncCacheStore.from_settings(redis_settings())
    assert isinstance(async_store.storage, hishel.AsyncRedisStorage)
    assert "hunter22" not in repr(async_store)


@pytest.mark.usefixtures("fake_redis")
def test_redis_index_invalidates_reports_and_clears(clock: FakeClock) -> None:
    with CacheStore.redis(REDIS_URL, clock=clock) as store:
        store.index.record("k1", "/users/alice/wants", "user", clock(), clock() + 300)
        store.index.record("k2", "/releases/1", "database", clock(), clock() + HOUR)
        store.index.record("k3", "/users/bob/wants", "user", clock(), clock() + 300)
        FAKE_SERVER[REDIS_URL]["musicagent-http:entry:x"] = b"a stored body"
        assert store.invalidate(invalidation_patterns("/users/alice/wants/5")) == 1
        assert store.info().entries_by_kind == {"database": 1, "user": 1}
        assert store.info().size_bytes is None
        clock.advance(301)
        assert store.info().entries == 1
        assert store.clear() == 1
        assert store.info().entries == 0
    assert FAKE_SERVER[REDIS_URL] == {}


@pytest.mark.usefixtures("fake_redis")
def test_clear_cache_and_info_follow_the_redis_settings() -> None:
    info = cache_info(redis_settings())
    assert (info.backend, info.entries) == ("redis", 0)
    assert clear_cache(redis_settings()) == 0
