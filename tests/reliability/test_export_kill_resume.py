"""An export killed with SIGKILL and resumed gives the very file an uninterrupted run gives.

`musicagent export collection` runs in a child process against a sandbox that answers a little
slowly; once it has asked for page k (k drawn from a fixed seed) the child is killed with
SIGKILL, which no handler can intercept. Checkpoints are at most a second apart, so the kill
lands between two of them, with pages in the partial file past the last one. `--resume` must
then fetch only the pages after the last checkpoint and finish a file byte-identical to an
uninterrupted export: nothing lost, nothing written twice. While any run is
going, the destination either does not exist or already holds the whole, final file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from musicagent.testing import SANDBOX_TOKEN, Sandbox
from tests.reliability.conftest import FAULT_SEED

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL"),
]

PAGES = 40
LATENCY = 0.03
"""Seconds the sandbox waits before each answer: enough to catch the child between pages."""
GIVE_UP_AFTER = 120.0
"""A safety net against a hung child, far beyond any normal run; not a performance bound."""

CLI = (sys.executable, "-c", "from musicagent.cli import main; main()")


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[Sandbox]:
    """A 4,000-item collection (40 pages) served with a little latency, no rate pressure."""
    with Sandbox(
        collection_size=PAGES * 100, rate_limit=100_000, seed=FAULT_SEED, latency=LATENCY
    ) as sandbox:
        yield sandbox


def _export(sandbox: Sandbox, out: Path, fmt: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DISCOGS_CACHE": "off",
        "DISCOGS_RATE_LIMIT_REQUESTS": "100000",
        "COLUMNS": "120",
    }
    command = [
        *CLI,
        "export",
        "collection",
        "sandbox",
        "--base-url",
        sandbox.base_url,
        "--token",
        SANDBOX_TOKEN,
        "--format",
        fmt,
        "--out",
        str(out),
        *extra,
    ]
    with out.with_name(out.name + f".{len(extra)}.stderr").open("wb") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _checkpoint(out: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(
            out.with_name(out.name + ".checkpoint.json").read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return None
    return data


def _watch_until_done(child: subprocess.Popen[bytes], out: Path) -> list[bytes]:
    """Poll the destination while the child runs; every state seen of it, as bytes."""
    seen: list[bytes] = []
    deadline = time.monotonic() + GIVE_UP_AFTER
    while child.poll() is None:
        if out.exists():
            seen.append(out.read_bytes())
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("the export child hung")
        time.sleep(0.002)
    return seen


def _pages_asked(sandbox: Sandbox) -> int:
    count: int = sandbox.stats()["operations"].get("get_collection_items_by_folder", 0)
    return count


def _wait_for_in_flight_requests(sandbox: Sandbox) -> None:
    """Let the sandbox answer the request the killed child had in flight, so it is not
    counted as one of the resumed run's (the count is what is asserted, not the wait)."""
    settled, last = 0, sandbox.stats()["requests"]
    deadline = time.monotonic() + GIVE_UP_AFTER
    while settled < 10 and time.monotonic() < deadline:
        time.sleep(LATENCY)
        now = sandbox.stats()["requests"]
        settled, last = (settled + 1, now) if now == last else (0, now)


def _run_to_completion(sandbox: Sandbox, out: Path, fmt: str, *extra: str) -> bytes:
    child = _export(sandbox, out, fmt, *extra)
    seen = _watch_until_done(child, out)
    log = out.with_name(out.name + f".{len(extra)}.stderr").read_text(errors="replace")
    assert child.returncode == 0, log
    final = out.read_bytes()
    # Whenever the destination was visible it already was the whole file: renamed into place.
    assert all(snapshot == final for snapshot in seen)
    return final


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_sigkilled_export_resumes_to_a_byte_identical_file(
    slow_sandbox: Sandbox, tmp_path: Path, fmt: str
) -> None:
    kill_at = random.Random(f"{FAULT_SEED}-{fmt}").randint(3, PAGES - 8)
    (tmp_path / "whole").mkdir()
    (tmp_path / "killed").mkdir()
    whole = tmp_path / "whole" / f"collection.{fmt}"
    out = tmp_path / "killed" / f"collection.{fmt}"

    slow_sandbox.reset()
    expected = _run_to_completion(slow_sandbox, whole, fmt)

    slow_sandbox.reset()
    child = _export(slow_sandbox, out, fmt)
    deadline = time.monotonic() + GIVE_UP_AFTER
    while _checkpoint(out) is None or _pages_asked(slow_sandbox) <= kill_at:
        assert not out.exists(), "the destination appeared before the export finished"
        assert child.poll() is None, "the export finished before it could be killed"
        assert time.monotonic() < deadline, "the export child hung"
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait()

    killed = _checkpoint(out)
    _wait_for_in_flight_requests(slow_sandbox)
    assert child.returncode == -signal.SIGKILL
    assert killed is not None and 1 <= killed["last_page"] < PAGES
    assert not out.exists()
    assert out.with_name(out.name + ".partial").exists()

    slow_sandbox.reset()
    resumed = _run_to_completion(slow_sandbox, out, fmt, "--resume")
    fetched = slow_sandbox.stats()["operations"]

    assert resumed == expected
    assert fetched["get_collection_items_by_folder"] == PAGES - killed["last_page"]
    assert not out.with_name(out.name + ".checkpoint.json").exists()
    assert not out.with_name(out.name + ".partial").exists()
    # A kill that lands while a checkpoint is being saved may leave that hidden temporary file
    # behind (nothing runs on SIGKILL); anything else left over would be a leak.
    left = [
        p.name
        for p in out.parent.iterdir()
        if not p.name.endswith(".stderr") and not (p.name.startswith(".") and p.suffix == ".tmp")
    ]
    assert left == [out.name]


# --- a kill at every step of finish(), in every format ------------------------------------------

_KILL_AT_STEP = """
import json, os, sys
from musicagent.export import ExportJob, exporter_for
from musicagent.export import job as job_module

step, fmt, destination, pages_file = sys.argv[1:5]

def die_at(name):
    if name == step:
        os._exit(9)  # like SIGKILL: nothing runs, no cleanup, no finally

job_module._step = die_at
pages = json.loads(open(pages_file, encoding="utf-8").read())
options = {"table": "collection"} if fmt == "sqlite" else {}
ExportJob(
    fetch_page=lambda n: (pages[n - 1], len(pages), sum(map(len, pages))),
    exporter=exporter_for(fmt, **options),
    destination=destination,
    kind="collection",
    query={"username": "sandbox"},
).run()
"""

_STEP_PAGES = [
    [
        {
            "id": page * 10 + n,
            "instance_id": 1000 + page * 10 + n,
            "basic_information": {"title": f'Title {page}-{n}, "q"', "genres": ["A", "B"]},
        }
        for n in range(5)
    ]
    for page in range(4)
]


def _step_job(destination: Path, fmt: str) -> Any:
    from musicagent.export import ExportJob, exporter_for

    pages = _STEP_PAGES
    options = {"table": "collection"} if fmt == "sqlite" else {}
    return ExportJob(
        fetch_page=lambda n: (pages[n - 1], len(pages), sum(map(len, pages))),
        exporter=exporter_for(fmt, **options),
        destination=destination,
        kind="collection",
        query={"username": "sandbox"},
    )


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "sqlite"])
@pytest.mark.parametrize(
    "step", ["written", "recorded", "replaced", "partial-removed", "checkpoint-removed"]
)
def test_a_kill_at_every_step_of_finishing_resumes_to_a_byte_identical_file(
    tmp_path: Path, fmt: str, step: str
) -> None:
    from musicagent.export import FINISH_STEPS

    assert step in FINISH_STEPS
    (tmp_path / "whole").mkdir()
    (tmp_path / "killed").mkdir()
    expected = _step_job(tmp_path / "whole" / f"out.{fmt}", fmt).run().destination.read_bytes()
    pages_file = tmp_path / "pages.json"
    pages_file.write_text(json.dumps(_STEP_PAGES), encoding="utf-8")
    out = tmp_path / "killed" / f"out.{fmt}"

    child = subprocess.run(
        [sys.executable, "-c", _KILL_AT_STEP, step, fmt, str(out), str(pages_file)],
        capture_output=True,
        timeout=GIVE_UP_AFTER,
        check=False,
    )

    # Stream formats rename the partial itself: there is no partial to remove afterwards.
    reached = not (step == "partial-removed" and fmt != "sqlite")
    assert child.returncode == (9 if reached else 0), child.stderr.decode(errors="replace")
    if FINISH_STEPS.index(step) >= FINISH_STEPS.index("replaced"):
        assert out.read_bytes() == expected  # complete the moment it was renamed into place
    if step == "checkpoint-removed" and fmt == "sqlite":
        return  # finished and tidied: a second run would be a re-run (an upsert), not a resume
    result = _step_job(out, fmt).run(resume=True)
    assert out.read_bytes() == expected
    assert result.items_written == sum(map(len, _STEP_PAGES))
    left = sorted(p.name for p in out.parent.iterdir())
    assert left == [out.name], left


def test_sigterm_saves_progress_says_so_and_resumes(slow_sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "collection.jsonl"
    slow_sandbox.reset()
    child = _export(slow_sandbox, out, "jsonl")
    deadline = time.monotonic() + GIVE_UP_AFTER
    while _checkpoint(out) is None or _pages_asked(slow_sandbox) < 4:
        assert child.poll() is None, "the export finished before it could be stopped"
        assert time.monotonic() < deadline, "the export child hung"
        time.sleep(0.002)
    child.send_signal(signal.SIGTERM)
    child.wait(GIVE_UP_AFTER)

    log = out.with_name(out.name + ".0.stderr").read_text(errors="replace")
    assert child.returncode == 143, log
    assert "progress is saved" in log and "--resume" in log
    assert "Traceback" not in log
    # Stopping checkpoints every page written, though the last checkpoint was less than a
    # second before: pages 1-3 were written before page 4 was asked for.
    stopped = _checkpoint(out)
    assert stopped is not None and stopped["last_page"] >= 3
    _wait_for_in_flight_requests(slow_sandbox)
    slow_sandbox.reset()
    resumed = _run_to_completion(slow_sandbox, out, "jsonl", "--resume")
    assert len(resumed.splitlines()) == PAGES * 100
    assert _pages_asked(slow_sandbox) == PAGES - stopped["last_page"]
