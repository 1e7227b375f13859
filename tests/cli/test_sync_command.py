"""`musicagent sync`, `value` and `wants buyable` against the sandbox: output, errors, modes,
and a sync killed with SIGKILL at a random moment, then continued."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discogs_sandbox import SANDBOX_TOKEN, Sandbox
from musicagent.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limit=100_000, rate_window=1, collection_size=450, wantlist_size=120) as s:
        yield s


@pytest.fixture(autouse=True)
def _sandbox_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox's rule, told to the client (Discogs sends no window).
    monkeypatch.setenv("DISCOGS_RATE_LIMIT_WINDOW", "1")
    monkeypatch.setenv("DISCOGS_RATE_LIMIT_REQUESTS", "100000")


def _args(sandbox: Sandbox, db: Path, *more: str) -> list[str]:
    return ["sync", "sandbox", "--db", str(db), "--base-url", sandbox.base_url, "--no-cache",
            "--token", SANDBOX_TOKEN, *more]  # fmt: skip


def test_sync_then_reports(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.reset()
    db = tmp_path / "mirror.db"
    result = runner.invoke(app, _args(sandbox, db, "--json", "--prices"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["lists"]["collection"]["listed"] == 450
    assert report["lists"]["collection"]["mode"] == "full"
    assert report["snapshots"] > 0
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600

    again = runner.invoke(app, _args(sandbox, db))
    assert again.exit_code == 0, again.output
    assert "collection incremental" in again.stdout
    assert "4 requests" in again.stdout  # per list: the head page and one page read again

    value = runner.invoke(app, ["value", "sandbox", "--db", str(db), "--json"])
    assert value.exit_code == 0, value.output
    assert json.loads(value.stdout)["history"][0]["lowest_total"] > 0
    plot = tmp_path / "value.csv"
    assert (
        runner.invoke(app, ["value", "sandbox", "--db", str(db), "--csv", str(plot)]).exit_code == 0
    )
    assert plot.read_text().splitlines()[0].startswith("run_id,taken_at,minimum,median,maximum")
    assert stat.S_IMODE(os.stat(plot).st_mode) == 0o600

    buyable = runner.invoke(
        app, ["wants", "buyable", "sandbox", "--db", str(db), "--max-price", "1000", "--json"]
    )
    assert buyable.exit_code == 0, buyable.output
    rows = json.loads(buyable.stdout)
    assert rows and all(row["lowest_price"] <= 1000 for row in rows)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--only", "collection,favourites"], "only: favourites is not one of collection"),
        (["--hydrate", "artists"], "hydrate: artists is not one of releases, masters, stats"),
    ],
)
def test_bad_choices_are_one_line_and_exit_2(
    sandbox: Sandbox, tmp_path: Path, args: list[str], expected: str
) -> None:
    result = runner.invoke(app, _args(sandbox, tmp_path / "m.db", *args))
    assert result.exit_code == 2
    assert expected in result.stderr
    assert not (tmp_path / "m.db").exists()


def test_wants_buyable_needs_a_limit(tmp_path: Path) -> None:
    result = runner.invoke(app, ["wants", "buyable", "sandbox", "--db", str(tmp_path / "m.db")])
    assert result.exit_code == 2
    assert "--max-price" in result.stderr
    other = runner.invoke(
        app,
        ["wants", "buyable", "sandbox", "--db", str(tmp_path / "m.db"), "--max-price-from", "x"],
    )
    assert other.exit_code == 2
    assert "allowed: notes" in other.stderr


def _rows(db: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    connection = sqlite3.connect(db)
    try:
        return (
            sorted(connection.execute("SELECT instance_id, raw FROM collection_items")),
            sorted(connection.execute("SELECT release_id, raw FROM wants")),
        )
    finally:
        connection.close()


def test_a_sync_killed_at_a_random_moment_continues(tmp_path: Path) -> None:
    # Slow enough (100 requests per two seconds with the margin, about 450 in all) that the
    # kill lands mid-run.
    with Sandbox(rate_limit=100, rate_window=1, collection_size=300, wantlist_size=100) as server:
        reference = tmp_path / "reference.db"
        env = {
            **os.environ,
            "DISCOGS_RATE_LIMIT_WINDOW": "1",
            "DISCOGS_RATE_LIMIT_REQUESTS": "100",
            # A one-second window makes scheduler lag on a loaded machine count: a margin
            # that covers it keeps the server's 429 count at zero (what is asserted below).
            "DISCOGS_RATE_LIMIT_MARGIN": "1.0",
            "DISCOGS_CACHE": "off",
        }
        command = [sys.executable, "-c", "from musicagent.cli import main; main()"]
        killed = tmp_path / "killed.db"
        process = subprocess.Popen(
            [*command, *_args(server, killed, "--hydrate", "releases")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Wait until some pages are in, then kill at a random moment of the run.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.stats()["requests"] < 3:
            time.sleep(0.05)
        time.sleep(random.Random(os.getpid()).uniform(0.0, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL

        # Consistent: the file opens, its run is left running, no page half-written.
        connection = sqlite3.connect(killed)
        status = connection.execute("SELECT status FROM sync_runs").fetchall()
        connection.close()
        assert status == [("running",)]

        resumed = subprocess.run(
            [*command, *_args(server, killed, "--hydrate", "releases", "--json")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stderr
        fresh = subprocess.run(
            [*command, *_args(server, reference, "--hydrate", "releases")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert fresh.returncode == 0, fresh.stderr
        assert _rows(killed) == _rows(reference)
        connection = sqlite3.connect(killed)
        runs = connection.execute("SELECT status FROM sync_runs ORDER BY run_id").fetchall()
        unhydrated = connection.execute(
            "SELECT count(*) FROM collection_items c JOIN releases r USING (release_id) "
            "WHERE r.raw IS NULL"
        ).fetchone()[0]
        connection.close()
        assert runs == [("interrupted",), ("done",)]
        assert unhydrated == 0
        assert server.stats()["status_429"] == 0


def test_import_musicagent_loads_no_mirror() -> None:
    code = "import musicagent, musicagent.cli, sys; print(sorted(m for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "musicagent.mirror" not in out.stdout
    assert "'musicagent.sync'" not in out.stdout
