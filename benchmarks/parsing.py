"""Model parsing throughput: releases per second from the bytes of a response.

The same release bodies, fetched once from the sandbox, are parsed by each client's own path
from bytes to its model (see `benchmarks.parsers`), each in a fresh process.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.adapters import is_installed
from benchmarks.launch import WorkerJob, run_workers
from benchmarks.parsers import PARSERS
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow

__all__ = ["fetch_release_bodies", "parsing_section"]

UNTYPED = {"python3-discogs-client"}
"""Clients whose "model" is the decoded dict itself: nothing is checked or converted up front."""

HOW = {
    "musicagent": "`Release.model_validate_json(bytes)` (one pass, typed)",
    "discogs-sdk": "`Release.model_validate(json.loads(bytes))` (typed)",
    "python3-discogs-client": "`models.Release(client, json.loads(bytes))` (dict wrapper)",
    "json": "`json.loads(bytes)` (a dict, no model)",
}


def fetch_release_bodies(count: int) -> list[str]:
    """The raw JSON of releases 1..count, as the sandbox serves them."""
    import httpx

    from musicagent.testing import SANDBOX_TOKEN, Sandbox

    headers = {
        "Authorization": f"Discogs token={SANDBOX_TOKEN}",
        "User-Agent": "musicagent-benchmarks",
    }
    with (
        Sandbox(rate_limit=10**9, seed=0) as sandbox,
        httpx.Client(base_url=sandbox.base_url, headers=headers) as http,
    ):
        bodies = []
        for release_id in range(1, count + 1):
            response = http.get(f"/releases/{release_id}")
            response.raise_for_status()
            bodies.append(response.text)
    return bodies


def parsing_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Parse the same bodies with each client's model and tabulate releases per second."""
    parsers = [
        name for name in PARSERS if name == "json" or (name in clients and is_installed(name))
    ]
    bodies = fetch_release_bodies(profile.parse_bodies)
    size = sum(len(body.encode()) for body in bodies) / len(bodies)
    speed: dict[str, float] = {}
    problems: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="musicagent-bench-") as tmp:
        path = Path(tmp) / "bodies.json"
        path.write_text(json.dumps(bodies))
        for name in parsers:
            job = WorkerJob(
                task="parse",
                client=name,
                params={"parser": name, "bodies": str(path), "rounds": profile.parse_rounds},
            )
            _started, (run,) = run_workers([job], timeout=600)
            if run.result is None:
                problems[name] = run.error
                continue
            speed[name] = run.result["parsed"] / run.result["seconds"]
            log(f"  parsing: {name}: {speed[name]:,.0f} releases/s")
    reference = speed.get("musicagent")
    rows = []
    for name in parsers:
        if name not in speed:
            rows.append([name, "—", "—", HOW[name], problems.get(name, "")])
            continue
        relative = f"{speed[name] / reference:.2f}×" if reference else "—"
        rows.append([name, f"{speed[name]:,.0f}", relative, HOW[name], ""])
    return Section(
        key="parsing",
        title="Model parsing throughput",
        intro=(
            f"{len(bodies)} distinct release bodies from the sandbox (mean {size:,.0f} bytes), "
            f"parsed {profile.parse_rounds} times each, from bytes to each client's model; "
            "releases per second of the fastest pass."
        ),
        headers=["parser", "releases/s", "÷ musicagent", "how", "problem"],
        rows=rows,
        notes=[
            "python3-discogs-client has no typed model: its `Release` wraps the decoded dict "
            "and converts fields when read, so its figure is essentially `json.loads`."
        ],
        summary=[
            SummaryRow(
                "Releases parsed per second, bytes → model",
                {
                    n: f"{v:,.0f}" + (" (dict wrapper, no validation)" if n in UNTYPED else "")
                    for n, v in speed.items()
                    if n != "json"
                },
            )
        ],
    )
