"""Several workers behind one address: four processes, four tokens, one budget shared in Redis.

The sandbox counts its moving window per source address (as Discogs does), so four workers on
one machine with four different tokens spend one budget. musicagent's workers share it through
Redis (``DISCOGS_RATE_LIMIT_BACKEND=redis``, one ``DISCOGS_RATE_LIMIT_BUDGET``); each fetches
its quarter of releases 1..N once (no item twice, so a cache could not change the schedule: it
stays off here, and which identities its hits reach is checked by the tests). The
job's time is compared with the fastest schedule the shared budget allows,
``window * floor((N - 1) / limit)``, and the sandbox counts the 429s. Needs ``redis-server``
(the Debian package); without it the section says so and measures nothing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.launch import WorkerJob, run_workers
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target

__all__ = ["WORKERS", "workers_section"]

WORKERS = 4
"""Processes, each with a token of its own."""
TARGET_RATIO = 1.02
"""The job may take at most this much longer than the fastest schedule the budget allows."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def redis_server(executable: str) -> Iterator[str]:
    """A ``redis-server`` on a free loopback port, without persistence; yields its URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="musicagent-bench-redis-") as folder:
        options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [executable, *options, "--dir", folder],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                        conn.sendall(b"PING\r\n")
                        if conn.recv(16).startswith(b"+PONG"):
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def fastest_seconds(profile: Profile) -> float:
    """The shortest time one budget allows for N requests, whoever sends them."""
    return profile.fastest_crawl_seconds()


def _jobs(profile: Profile, base_url: str, redis_url: str) -> list[WorkerJob]:
    from musicagent.testing import OTHER_USERNAMES, SANDBOX_TOKEN, token_for

    tokens = [SANDBOX_TOKEN, *(token_for(name) for name in OTHER_USERNAMES)][:WORKERS]
    env = {
        "DISCOGS_RATE_LIMIT_REQUESTS": str(profile.rate_limit),
        "DISCOGS_RATE_LIMIT_WINDOW": str(profile.rate_window),
        "DISCOGS_RATE_LIMIT_BACKEND": "redis",
        "DISCOGS_RATE_LIMIT_BUDGET": "bench-egress",
        "DISCOGS_REDIS_URL": redis_url,
    }
    if profile.limiter_margin is not None:
        env["DISCOGS_RATE_LIMIT_MARGIN"] = str(profile.limiter_margin)
    total = profile.crawl_requests
    share = -(-total // WORKERS)
    jobs = []
    for number, token in enumerate(tokens):
        first = 1 + number * share
        last = min(total, first + share - 1)
        jobs.append(
            WorkerJob(
                task="crawl",
                client="musicagent",
                options={"base_url": base_url, "token": token},
                params={"first": first, "last": last},
                env=env,
            )
        )
    return jobs


def run_job(profile: Profile, log: Any) -> dict[str, Any]:
    """One timed job: four workers against a per-address sandbox and one Redis."""
    from musicagent.testing import Sandbox

    executable = shutil.which("redis-server")
    if executable is None:
        return {"skipped": "redis-server is not installed (apt-get install redis-server)"}
    with (
        redis_server(executable) as redis_url,
        Sandbox(
            rate_limit=profile.rate_limit,
            rate_window=profile.rate_window,
            rate_limit_scope="address",
            seed=0,
        ) as sandbox,
    ):
        jobs = _jobs(profile, sandbox.base_url, redis_url)
        log(f"  workers: {len(jobs)} processes, {len(jobs)} tokens, one Redis…")
        timeout = 5 * fastest_seconds(profile) + 60
        started, runs = run_workers(jobs, timeout=timeout, before_go=sandbox.reset)
        stats = sandbox.stats()
    finished = [run.result["finished"] for run in runs if run.result is not None]
    killed = any(run.timed_out for run in runs) or len(finished) < len(runs)
    ok = sum(run.result["ok"] if run.result else run.progress.count("1") for run in runs)
    return {
        "seconds": timeout if killed else max(finished) - started,
        "killed": killed,
        "ok": ok,
        "status_429": int(stats.get("statuses", {}).get("429", 0)),
        "requests": int(stats.get("requests", 0)),
        "problem": "; ".join(sorted({run.error for run in runs if run.error})),
    }


def workers_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Run the four-worker job (musicagent only: the peers have no shared state)."""
    rule = f"{profile.rate_limit} per moving {profile.rate_window:g} s"
    title = f"Four workers behind one address ({profile.crawl_requests} requests, {rule})"
    intro = (
        f"{WORKERS} processes with {WORKERS} different tokens fetch releases "
        f"1..{profile.crawl_requests} (a quarter each) from a sandbox that counts its window "
        "per source address, as Discogs does. They share the budget through one Redis "
        "(`DISCOGS_RATE_LIMIT_BACKEND=redis`, one `DISCOGS_RATE_LIMIT_BUDGET`). 429s and "
        "requests are counted by the sandbox."
    )
    headers = ["client", "processes", "seconds", "fastest allowed s", "time ÷ fastest"]
    headers += ["429s", "requests sent", "fetched"]
    outcome = run_job(profile, log)
    if "skipped" in outcome:
        return Section(
            "workers", title, intro, headers, [], notes=[f"Not run: {outcome['skipped']}."]
        )
    fastest = fastest_seconds(profile)
    ratio = outcome["seconds"] / fastest if fastest else float("nan")
    log(
        f"    {outcome['seconds']:.1f} s ({ratio:.3f}×), {outcome['status_429']} × 429, "
        f"{outcome['ok']}/{profile.crawl_requests} fetched {outcome['problem']}"
    )
    shown = f">{outcome['seconds']:.0f}" if outcome["killed"] else f"{outcome['seconds']:.1f}"
    row = [
        "musicagent",
        str(WORKERS),
        shown,
        f"{fastest:.0f}",
        f"{ratio:.3f}×",
        str(outcome["status_429"]),
        str(outcome["requests"]),
        f"{outcome['ok']}/{profile.crawl_requests}",
    ]
    holds = (
        outcome["status_429"] == 0
        and ratio <= TARGET_RATIO
        and outcome["ok"] == profile.crawl_requests
    )
    target = Target(
        f"four workers, one address, one Redis: 0 × 429 and ≤ {TARGET_RATIO} × the fastest "
        "schedule the shared budget allows",
        holds,
        f"{outcome['status_429']} × 429, {ratio:.3f}× ({outcome['seconds']:.1f} s for "
        f"{fastest:.0f} s), {outcome['ok']}/{profile.crawl_requests} fetched",
    )
    notes = [
        "Fastest schedule: the shared budget sends a burst up to the limit, then one request "
        "per slot that frees, whichever worker sends it: window × floor((N − 1) / limit).",
    ]
    if outcome["problem"]:
        notes.append(f"Problem: {outcome['problem']}.")
    return Section(
        key="workers",
        title=title,
        intro=intro,
        headers=headers,
        rows=[row],
        notes=notes,
        targets=[target],
        summary=[
            SummaryRow(
                "… four workers with four tokens behind one address, one Redis",
                {"musicagent": f"{ratio:.2f}× · {outcome['status_429']} × 429"},
            )
        ],
    )
