"""`Discogs(record_to=...)` and `DISCOGS_RECORD_DIR`: what the client receives, recorded for CI.

Against the sandbox: every response the request loop receives is written once (a cache hit is
not written again), credentials never reach the folder, and `validate-response --manifest`
reads the folder as it is.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from musicagent import AsyncDiscogs, Discogs
from musicagent.cache import CacheStore
from musicagent.cli import app
from musicagent.recording import MANIFEST
from musicagent.settings import DiscogsSettings
from musicagent.testing import SANDBOX_TOKEN, Sandbox

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    with Sandbox(rate_limit=1000, rate_window=0.2) as running:
        yield running  # type: ignore[misc]


def test_the_client_records_each_response_it_receives(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "recorded"
    with (
        CacheStore.memory() as store,
        Discogs(SANDBOX_TOKEN, base_url=sandbox.base_url, record_to=folder, cache=store) as client,
    ):
        client.database.get_release(1)
        client.database.get_release(1)  # from the cache: not recorded twice
        client.users.get_identity()
    rows = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 2
    for path in folder.rglob("*"):
        if path.is_file():
            assert SANDBOX_TOKEN not in path.read_text(encoding="utf-8", errors="replace")
    result = CliRunner().invoke(app, ["validate-response", "--manifest", str(folder / MANIFEST)])
    assert result.exit_code == 0, result.output


def test_the_record_dir_setting_records_async_calls_too(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "from-settings"
    settings = DiscogsSettings(record_dir=folder, cache="off")

    async def run() -> None:
        async with AsyncDiscogs(
            SANDBOX_TOKEN, base_url=sandbox.base_url, settings=settings
        ) as client:
            await client.database.get_master(1000)

    asyncio.run(run())
    assert len((folder / MANIFEST).read_text(encoding="utf-8").splitlines()) == 2
