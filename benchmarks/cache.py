"""Cache: requests a repeated export sends within the cache lifetime.

The same job runs twice, each time in a new process, and the sandbox counts the requests of
each run. musicagent: ``musicagent export collection sandbox --format jsonl`` with its cache in
a temporary folder (``DISCOGS_CACHE_DIR``), and the same walk through the Python iterator.
discogs-sdk: its persistent cache (``cache=True, cache_dir=...``). python3-discogs-client has no
cache. A run within the lifetime should send nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.launch import WorkerJob, clean_environment, run_workers
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target
from benchmarks.requests_per_task import UNLIMITED

__all__ = ["cache_section"]

CLI_ROW = "musicagent (`musicagent export`)"


def _cli_export(base_url: str, cache_dir: Path, out: Path) -> str:
    """Run the export command once; '' when it succeeded, else its last error line."""
    from musicagent.testing import SANDBOX_TOKEN, SANDBOX_USERNAME

    env = clean_environment(
        {
            "DISCOGS_TOKEN": SANDBOX_TOKEN,
            "DISCOGS_BASE_URL": base_url,
            "DISCOGS_CACHE": "on",
            "DISCOGS_CACHE_DIR": str(cache_dir),
        }
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from musicagent.cli import main; main()",
            "export",
            "collection",
            SANDBOX_USERNAME,
            "--format",
            "jsonl",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=out.parent,
        env=env,
        timeout=600,
    )
    if done.returncode == 0:
        return ""
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {done.returncode}"


def cache_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Run each job twice and tabulate the requests of each run."""
    from musicagent.testing import SANDBOX_TOKEN, SANDBOX_USERNAME, Sandbox

    rows: list[list[str]] = []
    values: dict[str, str] = {}
    targets: list[Target] = []
    with (
        Sandbox(rate_limit=UNLIMITED, collection_size=profile.collection_size, seed=0) as sandbox,
        tempfile.TemporaryDirectory(prefix="musicagent-bench-") as tmp,
    ):
        runners = []
        if "musicagent" in clients:
            cli_cache = Path(tmp) / "cli-cache"

            def cli(attempt: int) -> str:
                return _cli_export(sandbox.base_url, cli_cache, Path(tmp) / f"out-{attempt}.jsonl")

            runners.append((CLI_ROW, "musicagent", cli))
        for client in clients:
            cache_dir = Path(tmp) / f"{client}-cache"
            cache_dir.mkdir()

            def walk(attempt: int, client: str = client, cache_dir: Path = cache_dir) -> str:
                job = WorkerJob(
                    task="walk",
                    client=client,
                    options={
                        "base_url": sandbox.base_url,
                        "token": SANDBOX_TOKEN,
                        "cache_dir": str(cache_dir),
                    },
                    params={"what": "collection", "target": SANDBOX_USERNAME},
                )
                _started, (run,) = run_workers([job], timeout=300)
                return str((run.result or {}).get("error") or run.error)

            label = f"{client} (iterator)" if client == "musicagent" else client
            runners.append((label, client, walk))
        for label, client, runner in runners:
            counts, problems = [], []
            for attempt in (1, 2):
                before = int(sandbox.stats()["requests"])
                problem = runner(attempt)
                counts.append(int(sandbox.stats()["requests"]) - before)
                if problem:
                    problems.append(f"run {attempt}: {problem}")
            log(f"  cache: {label}: {counts[0]} then {counts[1]} requests {problems}")
            cache = {
                "musicagent": "on (SQLite, temp dir)",
                "discogs-sdk": "on (SQLite, temp dir)",
            }.get(client, "none available")
            rows.append([label, cache, str(counts[0]), str(counts[1]), "; ".join(problems)])
            if label == CLI_ROW:
                values["musicagent"] = f"{counts[1]} (first run {counts[0]})"
                targets.append(
                    Target(
                        "a repeated export within the cache lifetime sends 0 requests",
                        counts[1] == 0 and not problems,
                        f"{counts[1]} requests on the second run (first: {counts[0]})",
                    )
                )
            elif client != "musicagent":
                values[client] = f"{counts[1]} (first run {counts[0]})"
    return Section(
        key="cache",
        title="Cache: a repeated export",
        intro=(
            f"The {profile.collection_size:,}-item collection exported (or walked) twice in a row, "
            "each run in a new process; the sandbox counts each run's requests."
        ),
        headers=["client", "cache", "requests, 1st run", "requests, 2nd run", "problem"],
        rows=rows,
        notes=[
            "musicagent keeps user data (collections, wantlists) for 5 minutes and database "
            "objects for 24 hours by default (`CachePolicy`).",
        ],
        targets=targets,
        summary=[SummaryRow("Requests to repeat the export within the cache lifetime", values)],
    )
