"""A failing cache never fails a request: one warning, then on without the cache.

Each broken cache (a folder that cannot be created, a read-only folder, a database file that
cannot be opened, a corrupt database, an unreachable Redis) serves calls from the server, logs
exactly one warning on ``musicagent.cache``, and leaves ``musicagent cache info`` working;
``musicagent cache clear`` turns a corrupt file into a working cache again.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import types
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from discogs_facade import OPERATIONS
from typer.testing import CliRunner

import musicagent.cache.store
from musicagent import AsyncDiscogs, Discogs
from musicagent.cache import (
    CACHE_FILE_NAME,
    CachedResponse,
    CachePolicy,
    CacheStore,
    Entry,
    cache_info,
    clear_cache,
    plan_call,
)
from musicagent.cache.memory_store import MemoryBackend
from musicagent.cli import app
from musicagent.settings import DiscogsSettings

BASE = "https://api.discogs.com"
RELEASE = {"id": 1, "title": "Blue Train", "resource_url": "https://api.discogs.com/releases/1"}


class Server:
    """Counts the requests that reach it."""

    def __init__(self) -> None:
        self.sent = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return httpx.Response(200, json=RELEASE)


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING, logger="musicagent.cache")
    yield caplog


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "musicagent.cache" and r.levelno == logging.WARNING
    ]


def fetch_twice(settings: DiscogsSettings) -> Server:
    server = Server()
    with Discogs(
        token="failing-cache-token-1",
        base_url=BASE,
        settings=settings,
        transport=httpx.MockTransport(server),
        rate_limiter=False,
    ) as client:
        for _ in range(2):
            assert client.database.get_release(1).title == "Blue Train"
    return server


def corrupt_file(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / CACHE_FILE_NAME).write_bytes(b"this is not a database " * 200)
    return folder


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def broken_folder(tmp_path: Path) -> Path:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder should be")
    return blocker / "cache"


def database_is_a_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    (folder / CACHE_FILE_NAME).mkdir(parents=True)
    return folder


@pytest.mark.parametrize(
    "make_folder",
    [broken_folder, database_is_a_folder, corrupt_file],
    ids=["uncreatable-folder", "database-is-a-folder", "corrupt-database"],
)
def test_broken_sqlite_cache_serves_from_the_server_with_one_warning(
    tmp_path: Path, warnings: pytest.LogCaptureFixture, make_folder: object
) -> None:
    folder = make_folder(tmp_path)  # type: ignore[operator]
    server = fetch_twice(DiscogsSettings(cache_dir=folder))
    assert server.sent == 2
    messages = cache_warnings(warnings)
    assert len(messages) == 1, messages
    assert "continuing without it" in messages[0]
    assert "\n" not in messages[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_cache_folder_serves_from_the_server_with_one_warning(
    tmp_path: Path, warnings: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        server = fetch_twice(DiscogsSettings(cache_dir=folder))
    finally:
        folder.chmod(0o700)
    assert server.sent == 2
    assert len(cache_warnings(warnings)) == 1


def test_unreachable_redis_serves_from_the_server_with_one_warning(
    warnings: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("redis")
    url = f"redis://:redis-pass-9f8e@127.0.0.1:{_closed_port()}/0"
    settings = DiscogsSettings(cache_backend="redis", redis_url=url)
    with warnings.at_level(logging.WARNING, logger="musicagent.redis"):
        server = fetch_twice(settings)
    assert server.sent == 2
    # The process's link to that Redis warns, once, for every user of it; the store is quiet.
    assert cache_warnings(warnings) == []
    messages = [
        r.getMessage()
        for r in warnings.records
        if r.name == "musicagent.redis" and r.levelno == logging.WARNING
    ]
    assert len(messages) == 1, messages
    assert "without the cache" in messages[0]
    assert "redis-pass-9f8e" not in messages[0]
    assert cache_info(settings).problem is not None


@pytest.mark.anyio
async def test_async_client_with_a_corrupt_cache_serves_from_the_server(
    tmp_path: Path, warnings: pytest.LogCaptureFixture
) -> None:
    server = Server()
    async with AsyncDiscogs(
        token="failing-cache-token-1",
        base_url=BASE,
        settings=DiscogsSettings(cache_dir=corrupt_file(tmp_path)),
        transport=httpx.MockTransport(server),
        rate_limiter=False,
    ) as client:
        for _ in range(2):
            assert (await client.database.get_release(1)).title == "Blue Train"
    assert server.sent == 2
    assert len(cache_warnings(warnings)) == 1


def test_cache_info_reports_a_corrupt_database_and_clear_recovers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = corrupt_file(tmp_path)
    monkeypatch.setenv("DISCOGS_CACHE_DIR", str(folder))
    runner = CliRunner()
    shown = runner.invoke(app, ["cache", "info"])
    assert shown.exit_code == 0, shown.output
    assert "musicagent cache clear" in shown.output
    as_json = runner.invoke(app, ["cache", "info", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["problem"]

    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0, cleared.output
    settings = DiscogsSettings(cache_dir=folder)
    assert cache_info(settings).problem is None
    server = fetch_twice(settings)
    assert server.sent == 1  # the second call is a hit again
    assert clear_cache(settings) == 1


class Outage(MemoryBackend):
    """A backend that fails while ``down`` is set, like a Redis server killed and restarted."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls = 0

    def get(self, key: str, now: float) -> CachedResponse | None:
        self.calls += 1
        if self.down:
            raise ConnectionError("connection refused")
        return super().get(key, now)

    def put(self, entry: Entry) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("connection refused")
        super().put(entry)


def test_a_store_rests_after_a_failure_and_rejoins_when_the_backend_is_back(
    monkeypatch: pytest.MonkeyPatch, warnings: pytest.LogCaptureFixture
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(
        musicagent.cache.store,
        "time",
        types.SimpleNamespace(time=lambda: clock[0], monotonic=lambda: clock[0]),
    )
    backend = Outage()
    store = CacheStore(backend)
    request = httpx.Request("GET", f"{BASE}/releases/1")
    plan = plan_call(OPERATIONS["get_release"], request, {}, CachePolicy(), store.scope("t:a"))
    backend.down = True
    assert store.get(plan) is None
    calls = backend.calls
    for _ in range(20):  # resting: no call reaches the broken backend
        assert store.get(plan) is None
        assert not store.put(plan, 200, httpx.Headers(), b"{}")
    assert backend.calls == calls
    backend.down = False
    clock[0] += 60
    assert store.put(plan, 200, httpx.Headers(), b"{}")
    assert store.get(plan) is not None
    assert len(cache_warnings(warnings)) == 1
