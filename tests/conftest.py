"""Shared fixtures: project paths, the spec, and the data copied into the project."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "spec" / "discogs.yaml"
EXAMPLES = ROOT / "spec" / "examples"
CAPTURES = ROOT / "tests" / "data" / "captures"


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a TSV file with a header row."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """spec/discogs.yaml, loaded."""
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the backend users of AsyncDiscogs have)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """No test reads the developer's DISCOGS_* settings or shares a rate budget with another."""
    import os

    from musicagent.ratelimit import RateLimiter
    from musicagent.redis_link import RedisLink

    for name in list(os.environ):
        if name.startswith("DISCOGS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DISCOGS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    RateLimiter.reset_shared()
    RedisLink.reset_shared()
    yield
    RateLimiter.reset_shared()
    RedisLink.reset_shared()
