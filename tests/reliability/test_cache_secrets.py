"""No credential ever reaches the cache folder, whatever the credential kind or client.

Against the sandbox, sync and async clients with a personal token, a consumer key and secret,
and OAuth (PLAINTEXT, whose signature is ``consumer_secret&token_secret`` in clear, and
HMAC-SHA1) fetch releases, their identity, a collection page and a search, and make a raw
``client.http`` call carrying ``token=``. Then every byte of every file under the cache folder
(the database and its WAL included) is searched for the raw secrets, their percent-encoded
forms, and every ``Authorization`` header and OAuth signature that went out. The cache must
also hold the answers, so the test cannot pass by storing nothing.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from musicagent import AsyncDiscogs, Discogs
from musicagent.auth import AccessToken, OAuth1Auth
from musicagent.cache import cache_info
from musicagent.errors import AuthenticationError, ForbiddenError
from musicagent.settings import DiscogsSettings
from musicagent.testing import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    SANDBOX_TOKEN,
    SANDBOX_USERNAME,
    Sandbox,
)
from tests.reliability.conftest import FAULT_SEED

pytestmark = pytest.mark.integration

SECRETS = (SANDBOX_TOKEN, SANDBOX_CONSUMER_SECRET, SANDBOX_OAUTH_TOKEN, SANDBOX_OAUTH_TOKEN_SECRET)


class Wire:
    """What went out in Authorization headers, and the OAuth signatures in them."""

    def __init__(self) -> None:
        self.authorizations: set[str] = set()

    def record(self, request: httpx.Request) -> None:
        header = request.headers.get("Authorization")
        if header:
            self.authorizations.add(header)

    def needles(self) -> set[bytes]:
        found: set[str] = set(SECRETS)
        for header in self.authorizations:
            found.add(header)
            found.update(re.findall(r'oauth_signature="([^"]+)"', header))
            found.update(re.findall(r"(?:token|secret)=([^,\s]+)", header))
        found.add(f"{SANDBOX_CONSUMER_SECRET}&{SANDBOX_OAUTH_TOKEN_SECRET}")
        variants = {form for value in found for form in (value, unquote(value), quote(value))}
        return {value.encode() for value in variants if len(value) >= 8}


class SyncWire(httpx.HTTPTransport):
    def __init__(self, wire: Wire) -> None:
        super().__init__()
        self.wire = wire

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.wire.record(request)
        return super().handle_request(request)


class AsyncWire(httpx.AsyncHTTPTransport):
    def __init__(self, wire: Wire) -> None:
        super().__init__()
        self.wire = wire

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.wire.record(request)
        return await super().handle_async_request(request)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limit=10_000, rate_window=1.0, seed=FAULT_SEED) as running:
        yield running


CREDENTIALS: list[Any] = [
    pytest.param({"token": SANDBOX_TOKEN}, id="token"),
    pytest.param(
        {"consumer_key": SANDBOX_CONSUMER_KEY, "consumer_secret": SANDBOX_CONSUMER_SECRET},
        id="key-secret",
    ),
    pytest.param(
        {
            "consumer_key": SANDBOX_CONSUMER_KEY,
            "consumer_secret": SANDBOX_CONSUMER_SECRET,
            "oauth": AccessToken(SANDBOX_OAUTH_TOKEN, SANDBOX_OAUTH_TOKEN_SECRET),
        },
        id="oauth-plaintext",
    ),
    pytest.param(
        {
            "oauth": OAuth1Auth(
                SANDBOX_CONSUMER_KEY,
                SANDBOX_CONSUMER_SECRET,
                SANDBOX_OAUTH_TOKEN,
                SANDBOX_OAUTH_TOKEN_SECRET,
                signature_method="HMAC-SHA1",
            )
        },
        id="oauth-hmac",
    ),
]


def options(sandbox: Sandbox, cache_dir: Path, credential: dict[str, Any]) -> dict[str, Any]:
    return {
        "base_url": sandbox.base_url,
        "settings": DiscogsSettings(cache_dir=cache_dir),
        "cache": True,
        "rate_limiter": False,
        **credential,
    }


def attempt(call: Any) -> None:
    # Key/secret may not read user data; what matters is what the cache kept.
    with contextlib.suppress(AuthenticationError, ForbiddenError):
        call()


async def async_attempt(call: Any) -> None:
    with contextlib.suppress(AuthenticationError, ForbiddenError):
        await call()


def assert_cache_holds_no_secret(cache_dir: Path, wire: Wire) -> None:
    files = [path for path in cache_dir.rglob("*") if path.is_file()]
    assert files, "the cache folder is empty"
    info = cache_info(DiscogsSettings(cache_dir=cache_dir))
    assert info.entries >= 2, "the answers were not cached: the test would prove nothing"
    assert wire.authorizations, "no credential went out"
    contents = b"".join(path.read_bytes() for path in files)
    for needle in wire.needles():
        assert needle not in contents, f"{needle[:6]!r}… found under the cache folder"


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_sync_client_caches_no_credential(
    sandbox: Sandbox, tmp_path: Path, credential: dict[str, Any]
) -> None:
    wire = Wire()
    cache_dir = tmp_path / "cache"
    with Discogs(transport=SyncWire(wire), **options(sandbox, cache_dir, credential)) as client:
        for _ in range(2):
            client.database.get_release(1)
            attempt(lambda: client.users.get_identity())
            attempt(lambda: client.database.search(q="a"))
            attempt(lambda: client.collection.get_collection_items_by_folder(SANDBOX_USERNAME, 0))
        client.http.get("/releases/2", params={"token": SANDBOX_TOKEN})
        assert client.stats.cache_hits >= 1
    assert_cache_holds_no_secret(cache_dir, wire)


@pytest.mark.anyio
@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_async_client_caches_no_credential(
    sandbox: Sandbox, tmp_path: Path, credential: dict[str, Any]
) -> None:
    wire = Wire()
    cache_dir = tmp_path / "cache"
    async with AsyncDiscogs(
        transport=AsyncWire(wire), **options(sandbox, cache_dir, credential)
    ) as client:
        for _ in range(2):
            await client.database.get_release(1)
            await async_attempt(lambda: client.users.get_identity())
            await async_attempt(lambda: client.database.search(q="a"))
        await client.http.get("/releases/2", params={"token": SANDBOX_TOKEN})
        assert client.stats.cache_hits >= 1
    assert_cache_holds_no_secret(cache_dir, wire)
