"""Nothing that identifies or proves a credential is ever written to disk.

Against the sandbox, with the cache on, musicagent's log files at DEBUG, an application's plain
file handler on the root logger (which masks nothing itself) and the shared rate-limit state
file, sync and async clients call with each kind of credential — a personal token, a consumer
key and secret, OAuth with PLAINTEXT and with HMAC-SHA1 — including a raw `client.http` call with
`token=` in its query. Then every byte of every file under the cache, log and state folders is
searched for the token, the secrets, every OAuth signature that was sent (raw and
percent-encoded) and the plain fingerprints of the credentials.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from musicagent import AsyncDiscogs, Discogs
from musicagent.auth import OAuth1Auth
from musicagent.logging import LoggerConfig, configure_logging, reset_logging
from musicagent.ratelimit import RateLimiter
from musicagent.settings import DiscogsSettings
from musicagent.testing import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    SANDBOX_TOKEN,
    Sandbox,
)

pytestmark = pytest.mark.integration


class Signatures(httpx.HTTPTransport, httpx.AsyncHTTPTransport):
    """The innermost transport: remembers every Authorization value that went on the wire."""

    def __init__(self) -> None:
        httpx.HTTPTransport.__init__(self)
        self._async = httpx.AsyncHTTPTransport()
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.headers.get("authorization", ""))
        return httpx.HTTPTransport.handle_request(self, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.headers.get("authorization", ""))
        return await self._async.handle_async_request(request)

    async def aclose(self) -> None:
        await self._async.aclose()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limit=1000, rate_window=0.2) as running:
        yield running


@pytest.fixture
def folders(tmp_path: Path) -> Iterator[dict[str, Path]]:
    paths = {name: tmp_path / name for name in ("cache", "logs", "state")}
    paths["state"].mkdir()
    plain = logging.FileHandler(paths["state"].parent / "logs-root.log", encoding="utf-8")
    root = logging.getLogger()
    level = root.level
    root.addHandler(plain)
    root.setLevel(logging.DEBUG)
    configure_logging(LoggerConfig(level="DEBUG", dir=paths["logs"], console=False))
    yield paths
    reset_logging()
    root.removeHandler(plain)
    plain.close()
    root.setLevel(level)


CREDENTIALS: dict[str, dict[str, Any]] = {
    "token": {"token": SANDBOX_TOKEN},
    "key-secret": {
        "consumer_key": SANDBOX_CONSUMER_KEY,
        "consumer_secret": SANDBOX_CONSUMER_SECRET,
    },
    "oauth-plaintext": {
        "oauth": OAuth1Auth(
            SANDBOX_CONSUMER_KEY,
            SANDBOX_CONSUMER_SECRET,
            SANDBOX_OAUTH_TOKEN,
            SANDBOX_OAUTH_TOKEN_SECRET,
        )
    },
    "oauth-hmac": {
        "oauth": OAuth1Auth(
            SANDBOX_CONSUMER_KEY,
            SANDBOX_CONSUMER_SECRET,
            SANDBOX_OAUTH_TOKEN,
            SANDBOX_OAUTH_TOKEN_SECRET,
            signature_method="HMAC-SHA1",
        )
    },
}


def _signatures(headers: list[str]) -> set[str]:
    found: set[str] = set()
    for header in headers:
        for value in re.findall(r'oauth_signature="([^"]+)"', header):
            found |= {value, unquote(value)}
    return {value for value in found if len(value) >= 8}


def _forbidden(clients: list[Any], wire: Signatures) -> set[str]:
    plain = {
        SANDBOX_TOKEN,
        SANDBOX_CONSUMER_SECRET,
        SANDBOX_OAUTH_TOKEN_SECRET,
        f"{SANDBOX_CONSUMER_SECRET}&{SANDBOX_OAUTH_TOKEN_SECRET}",
        *_signatures(wire.sent),
    }
    # The plain (unkeyed) fingerprints identify a credential as well as the credential does.
    plain |= {client.auth.identity.split(":", 1)[1] for client in clients}
    return plain | {quote(value, safe="") for value in plain}


def _files(folders: dict[str, Path]) -> list[Path]:
    roots = [*folders.values(), folders["state"].parent / "logs-root.log"]
    files = [root for root in roots if root.is_file()]
    files += [path for root in roots if root.is_dir() for path in root.rglob("*") if path.is_file()]
    return files


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
def test_no_credential_reaches_any_file(
    sandbox: Sandbox, folders: dict[str, Path], mode: str, kind: str
) -> None:
    settings = DiscogsSettings(
        cache_dir=folders["cache"],
        log_dir=folders["logs"],
        rate_limit_state_file=folders["state"] / "rate-limit.sqlite3",
    )
    wire = Signatures()
    RateLimiter.reset_shared()
    options: dict[str, Any] = {
        "base_url": sandbox.base_url,
        "settings": settings,
        "cache": True,
        "transport": wire,
        **CREDENTIALS[kind],
    }
    clients: list[Any] = []
    if mode == "sync":
        with Discogs(**options) as client:
            clients.append(client)
            client.database.get_release(1)
            client.database.get_release(1)  # the second from the cache
            client.users.get_identity() if kind != "key-secret" else None
            client.http.get("/releases/1", params={"token": SANDBOX_TOKEN})
    else:

        async def run() -> None:
            async with AsyncDiscogs(**options) as client:
                clients.append(client)
                await client.database.get_release(1)
                await client.database.get_release(1)
                if kind != "key-secret":
                    await client.users.get_identity()
                await client.http.get("/releases/1", params={"token": SANDBOX_TOKEN})

        asyncio.run(run())
    assert clients[0].stats.cache_hits >= 1, (
        "the cache must have been used for this test to mean anything"
    )
    files = _files(folders)
    assert any(path.is_relative_to(folders["cache"]) for path in files)
    assert any(path.is_relative_to(folders["logs"]) for path in files)
    forbidden = _forbidden(clients, wire)
    leaks = [
        f"{path.name}: {secret[:6]}…"
        for path in files
        for secret in forbidden
        if secret.encode() in path.read_bytes()
    ]
    assert leaks == []
