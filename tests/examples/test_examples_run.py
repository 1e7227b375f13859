"""The demo and every example run against the sandbox, so none of them rots."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from musicagent.testing import SANDBOX_TOKEN, Sandbox
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(collection_size=150, seed=7) as running:
        yield running


def _env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCOGS_")}
    env.update(
        DISCOGS_BASE_URL=sandbox.base_url,
        DISCOGS_TOKEN=SANDBOX_TOKEN,
        DISCOGS_CACHE_DIR=str(tmp_path / "cache"),
    )
    return env


def test_every_example_is_covered() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "basic_usage.py",
        "advanced_usage.py",
        "error_handling.py",
        "async_usage.py",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_against_the_sandbox(sandbox: Sandbox, example: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(example), str(tmp_path / "out")],
        env=_env(sandbox, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip()
    assert SANDBOX_TOKEN not in done.stdout + done.stderr
    if example.name == "basic_usage.py":
        # The sandbox's artist 108713 once had no name, so this line read "…: None".
        assert "Artist 108713: Nickelback" in done.stdout


def test_demo_writes_a_csv_and_a_json_export(tmp_path: Path) -> None:
    out = tmp_path / "exports"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo.py"),
            "--collection-size",
            "120",
            "--out-dir",
            str(out),
        ],
        env={k: v for k, v in os.environ.items() if not k.startswith("DISCOGS_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with (out / "collection-sandbox.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    items = json.loads((out / "collection-sandbox.json").read_text(encoding="utf-8"))
    assert len(rows) == len(items) == 120
    assert "Exported 120 items" in done.stdout
