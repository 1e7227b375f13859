"""The Redis cache against a real ``redis-server``: shared hits, one round trip, Redis TTLs.

Several stores on one server stand for several workers: a response fetched by one is a hit
for every other store of the same identity and for no other identity. No key or value holds a
credential. Round trips are counted at the connection (one packed send per command or
pipeline), not timed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from discogs_facade import OPERATIONS
from typer.testing import CliRunner

from musicagent import AsyncDiscogs, Discogs
from musicagent.auth import AccessToken
from musicagent.cache import (
    REDIS_KEY_PREFIX,
    CachePolicy,
    CacheStore,
    cache_info,
    cache_transport,
    clear_cache,
    from_cache,
    plan_call,
)
from musicagent.cache.redis_store import RedisBackend
from musicagent.cli import app
from musicagent.redis_link import RedisLink
from musicagent.settings import DiscogsSettings
from tests.redis_server import (  # noqa: F401  (fixtures)
    RedisProcess,
    redis_process,
    redis_server,
    redis_url,
)

pytestmark = pytest.mark.integration

redis = pytest.importorskip("redis")

BASE = "https://api.discogs.com"
TOKEN = "redis-personal-token-6c1f0a"
CONSUMER_KEY = "redis-consumer-key-11aa"
CONSUMER_SECRET = "redis-consumer-secret-22bb"
OAUTH_TOKEN = "redis-oauth-token-33cc"
OAUTH_SECRET = "redis-oauth-token-secret-44dd"


class Upstream:
    """Answers 200 with the path and who served it; counts requests per path."""

    def __init__(self, name: str = "upstream") -> None:
        self.name = name
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = {
            "id": 1,
            "title": "x",
            "resource_url": "https://api.discogs.com/releases/1",
            "path": request.url.path,
            "served_by": self.name,
        }
        return httpx.Response(200, json=body, headers={"Set-Cookie": "session=abc"})

    def count(self, path: str) -> int:
        return sum(1 for request in self.requests if request.url.path == path)


@pytest.fixture
def server(redis_url: str) -> Iterator[Any]:  # noqa: F811
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def http_for(store: CacheStore, upstream: Upstream, identity: str) -> httpx.Client:
    transport = cache_transport(httpx.MockTransport(upstream), identity=identity, store=store)
    return httpx.Client(base_url=BASE, transport=transport)


def everything_stored(server: Any) -> bytes:
    """Every key and every value on the server, as one blob to search."""
    parts: list[bytes] = []
    for key in server.scan_iter(match="*"):
        parts.append(key)
        kind = server.type(key)
        if kind == b"string":
            parts.append(server.get(key))
        elif kind == b"hash":
            for field, value in server.hgetall(key).items():
                parts += [field, value]
        else:
            parts.append(repr(server.dump(key)).encode())
    return b"\n".join(parts)


def test_workers_share_hits_within_an_identity_and_never_across(redis_url: str) -> None:  # noqa: F811
    upstream_a, upstream_b = Upstream("a"), Upstream("b")
    with (
        CacheStore.redis(redis_url) as worker_1,
        CacheStore.redis(redis_url) as worker_2,
        http_for(worker_1, upstream_a, "token:alice") as alice_1,
        http_for(worker_2, upstream_a, "token:alice") as alice_2,
        http_for(worker_2, upstream_b, "token:bob") as bob,
    ):
        assert not from_cache(alice_1.get("/users/alice/collection/value"))
        hit = alice_2.get("/users/alice/collection/value")
        assert from_cache(hit) and hit.json()["served_by"] == "a"
        assert bob.get("/users/alice/collection/value").json()["served_by"] == "b"
        assert from_cache(bob.get("/users/alice/collection/value"))
    assert (upstream_a.count("/users/alice/collection/value"), len(upstream_b.requests)) == (1, 1)


class RoundTrips:
    """Counts packed sends on every connection: one per command, one per pipeline."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = redis.connection.AbstractConnection.send_packed_command

        def counting(connection: Any, command: Any, check_health: bool = True) -> None:
            self.count += 1
            original(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)


def test_one_round_trip_per_miss_and_per_hit(
    redis_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with CacheStore.redis(redis_url) as store:
        scope = store.scope("token:alice")  # the salt is read once per store
        request = httpx.Request("GET", f"{BASE}/releases/1")
        plan = plan_call(OPERATIONS["get_release"], request, {}, CachePolicy(), scope)
        store.get(plan)  # connect first: the handshake is not the cache's work
        trips = RoundTrips(monkeypatch)
        assert store.get(plan) is None
        assert trips.count == 1
        assert store.put(plan, 200, httpx.Headers({"Content-Type": "application/json"}), b"{}")
        assert trips.count == 2
        hit = store.get(plan)
        assert trips.count == 3
    assert hit is not None and hit.body == b"{}"


def test_redis_enforces_each_kinds_lifetime(redis_url: str, server: Any) -> None:  # noqa: F811
    upstream = Upstream()
    with CacheStore.redis(redis_url) as store, http_for(store, upstream, "token:a") as http:
        http.get("/releases/1")
        http.get("/database/search", params={"q": "x"})
    ttls = sorted(server.pttl(key) for key in server.scan_iter(match=f"{REDIS_KEY_PREFIX}:r:*"))
    assert len(ttls) == 2
    hour, day = 3600 * 1000, 24 * 3600 * 1000
    assert 0 < ttls[0] <= hour < ttls[1] <= day


def test_writes_invalidate_matching_paths_for_every_identity(redis_url: str) -> None:  # noqa: F811
    upstream = Upstream()
    with (
        CacheStore.redis(redis_url) as store,
        http_for(store, upstream, "token:alice") as alice,
        http_for(store, upstream, "token:bob") as bob,
    ):
        for http in (alice, bob):
            http.get("/users/alice/wants")
            http.get("/releases/5")
        alice.delete("/users/alice/wants/5")
        for http in (alice, bob):
            http.get("/users/alice/wants")
            http.get("/releases/5")
    assert upstream.count("/users/alice/wants") == 4
    assert upstream.count("/releases/5") == 2


CREDENTIALS: list[Any] = [
    pytest.param({"token": TOKEN}, id="token"),
    pytest.param({"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}, id="key"),
    pytest.param(
        {
            "consumer_key": CONSUMER_KEY,
            "consumer_secret": CONSUMER_SECRET,
            "oauth": AccessToken(OAUTH_TOKEN, OAUTH_SECRET),
        },
        id="oauth",
    ),
]
SECRETS = (TOKEN, CONSUMER_SECRET, OAUTH_TOKEN, OAUTH_SECRET, "session=abc")


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_no_credential_in_any_redis_key_or_value(
    redis_url: str,  # noqa: F811
    server: Any,
    credential: dict[str, Any],
) -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("Authorization", ""))
        return httpx.Response(
            200, json={"id": 1, "title": "x", "resource_url": "https://api.discogs.com/releases/1"}
        )

    settings = DiscogsSettings(cache_backend="redis", redis_url=redis_url)
    with Discogs(
        base_url=BASE,
        transport=httpx.MockTransport(answer),
        settings=settings,
        rate_limiter=False,
        **credential,
    ) as client:
        client.database.get_release(1)
        client.database.get_release(1)
        client.database.get_release(2)
    assert len(sent) == 2 and all(sent)
    stored = everything_stored(server)
    assert stored, "nothing was cached"
    for secret in (*SECRETS, *sent, *(part for header in sent for part in header.split(","))):
        assert secret.strip().encode() not in stored, secret


@pytest.mark.anyio
async def test_async_client_shares_the_redis_cache(redis_url: str) -> None:  # noqa: F811
    upstream = Upstream()
    settings = DiscogsSettings(cache_backend="redis", redis_url=redis_url)
    hits = []
    for _ in range(2):
        async with AsyncDiscogs(
            token=TOKEN,
            base_url=BASE,
            transport=httpx.MockTransport(upstream),
            settings=settings,
            rate_limiter=False,
        ) as client:
            await client.database.get_release(1)
            hits.append(client.stats.cache_hits)
    assert upstream.count("/releases/1") == 1
    assert hits == [0, 1]


def test_cache_info_and_clear_work_on_redis(
    redis_url: str,  # noqa: F811
    server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = DiscogsSettings(cache_backend="redis", redis_url=redis_url)
    upstream = Upstream()
    with CacheStore.redis(redis_url) as store, http_for(store, upstream, "token:a") as http:
        http.get("/releases/1")
        http.get("/users/alice/wants")
    server.set("musicagent-http:old-entry", b"Authorization: Discogs token=legacy-secret")
    server.set("someone-elses-key", b"kept")
    info = cache_info(settings)
    assert (info.backend, info.entries, info.entries_by_kind) == (
        "redis",
        2,
        {"database": 1, "user": 1},
    )
    monkeypatch.setenv("DISCOGS_CACHE_BACKEND", "redis")
    monkeypatch.setenv("DISCOGS_REDIS_URL", redis_url)
    shown = CliRunner().invoke(app, ["cache", "info", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["entries"] == 2
    cleared = CliRunner().invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0, cleared.output
    assert "Removed 2 cached responses." in cleared.output
    assert server.get("someone-elses-key") == b"kept"
    assert server.get("musicagent-http:old-entry") is None
    assert clear_cache(settings) == 0
    assert cache_info(settings).entries == 0


def test_a_redis_url_password_is_masked_in_the_location(redis_url: str) -> None:  # noqa: F811
    with CacheStore.redis(redis_url.replace("redis://", "redis://:hunter2-pass@")) as store:
        assert "hunter2-pass" not in store.location
        assert "hunter2-pass" not in repr(store)


def test_a_restarted_redis_is_used_again_and_shared_with_workers_started_after_it(
    redis_process: RedisProcess,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="musicagent.redis")
    url = redis_process.url
    link = RedisLink(url, retry_interval=0.2)
    upstream = Upstream()
    with (
        CacheStore(RedisBackend(url, link=link)) as store,
        http_for(store, upstream, "token:alice") as alice,
    ):
        alice.get("/releases/1")
        redis_process.kill()
        for _ in range(3):  # no cache, no error, and a single warning
            assert not from_cache(alice.get("/releases/1"))
        redis_process.start()  # empty: the salt went with the responses
        time.sleep(0.3)
        # The first answer after the return was planned with the old salt: not stored. The
        # next is, under fingerprints of the new salt every worker reads.
        alice.get("/releases/2")
        alice.get("/releases/2")
        with (
            CacheStore.redis(url) as newcomer,
            http_for(newcomer, upstream, "token:alice") as alice_elsewhere,
        ):
            assert from_cache(alice_elsewhere.get("/releases/2"))
    assert upstream.count("/releases/2") == 2
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "without the cache" in warnings[0].getMessage()
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_one_warning_for_the_rate_window_and_the_cache_on_one_redis(
    redis_process: RedisProcess,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = DiscogsSettings(
        cache_backend="redis", rate_limit_backend="redis", redis_url=redis_process.url
    )
    upstream = Upstream()
    with Discogs(
        token=TOKEN, base_url=BASE, transport=httpx.MockTransport(upstream), settings=settings
    ) as client:
        client.database.get_release(1)
        redis_process.kill()
        with caplog.at_level(logging.WARNING, logger="musicagent"):
            for release in (1, 2, 3):
                client.database.get_release(release)
    assert upstream.count("/releases/1") == 2  # the hit is gone with the cache
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "rate window of this process" in warnings[0] and "without the cache" in warnings[0]
