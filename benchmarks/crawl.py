"""Rate-limited crawl: an N-request job under the moving-window rule, timed, 429s counted.

Each client fetches releases 1..N, one request each, against a sandbox enforcing the rule
(60 requests per moving 60 s; ``--quick``: 10 per 1 s). The time is compared with the fastest
the rule allows, ``window * floor((N - 1 + P) / limit)``, and the server counts the 429s.
Three variants:

- ``crawl``: one process, the whole budget free.
- ``crawl-preset``: another program spent half the budget just before the start
  (the sandbox's ``preset_used``), so the client must learn it from the rate-limit headers.
- ``crawl-shared``: two processes share one token, each fetching half of the releases.
  musicagent shares its limiter through ``DISCOGS_RATE_LIMIT_STATE_FILE`` (SQLite); the peers
  have nothing to share, so they are simply two processes.

A client that gives up on a 429 loses that release: the table shows how many are missing.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.launch import WorkerJob, WorkerRun, run_workers
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target

__all__ = ["VARIANTS", "CrawlVariant", "crawl_section"]


@dataclass(frozen=True)
class CrawlVariant:
    """One way of running the crawl."""

    key: str
    title: str
    processes: int
    preset: bool


VARIANTS = {
    "crawl": CrawlVariant("crawl", "Rate-limited crawl", 1, False),
    "crawl-preset": CrawlVariant(
        "crawl-preset", "Rate-limited crawl, half the budget already spent", 1, True
    ),
    "crawl-shared": CrawlVariant(
        "crawl-shared", "Rate-limited crawl, two processes sharing one token", 2, False
    ),
}
"""The crawl scenarios by the name `--only` takes."""


PEER_BEHAVIOUR = (
    "python3-discogs-client sleeps a random time after each 429 (uniform between 0 and "
    "2^attempt s, up to 100 attempts), so its time varies from run to run. discogs-sdk retries "
    "a 429 three times, 1 to 5 s apart (Discogs sends no Retry-After), then raises "
    "`RateLimitError`: each such release is lost. Each figure is one run."
)
"""What the peers do on a 429, read from their source (explains their rows)."""


@dataclass
class CrawlOutcome:
    """What one client's crawl came to, as the server and the workers saw it."""

    client: str
    seconds: float
    killed: bool
    ok: int
    failed: int
    status_429: int
    requests: int
    errors: dict[str, int]
    problem: str


def _jobs(
    client: str, variant: CrawlVariant, profile: Profile, base_url: str, state_dir: str
) -> list[WorkerJob]:
    from musicagent.testing import SANDBOX_TOKEN

    env: dict[str, str] = {}
    if client == "musicagent":
        env = {
            "DISCOGS_RATE_LIMIT_REQUESTS": str(profile.rate_limit),
            "DISCOGS_RATE_LIMIT_WINDOW": str(profile.rate_window),
        }
        if profile.limiter_margin is not None:
            env["DISCOGS_RATE_LIMIT_MARGIN"] = str(profile.limiter_margin)
        if variant.processes > 1:
            env["DISCOGS_RATE_LIMIT_STATE_FILE"] = str(Path(state_dir) / "ratelimit.sqlite3")
    total = profile.crawl_requests
    share = -(-total // variant.processes)
    jobs = []
    for number in range(variant.processes):
        first = 1 + number * share
        last = min(total, first + share - 1)
        jobs.append(
            WorkerJob(
                task="crawl",
                client=client,
                options={"base_url": base_url, "token": SANDBOX_TOKEN},
                params={"first": first, "last": last},
                env=env,
            )
        )
    return jobs


def _outcome(
    client: str, started: float, runs: list[WorkerRun], stats: dict[str, Any], timeout: float
) -> CrawlOutcome:
    killed = any(run.timed_out for run in runs)
    finished = [run.result["finished"] for run in runs if run.result is not None]
    seconds = timeout if killed or not finished else max(finished) - started
    errors: dict[str, int] = {}
    ok = failed = 0
    for run in runs:
        if run.result is not None:
            ok += run.result["ok"]
            failed += run.result["failed"]
            for name, count in run.result["errors"].items():
                errors[name] = errors.get(name, 0) + count
        else:
            ok += run.progress.count("1")
            failed += run.progress.count("0")
    problems = sorted({run.error for run in runs if run.error})
    return CrawlOutcome(
        client=client,
        seconds=seconds,
        killed=killed,
        ok=ok,
        failed=failed,
        status_429=int(stats.get("statuses", {}).get("429", 0)),
        requests=int(stats.get("requests", 0)),
        errors=errors,
        problem="; ".join(problems),
    )


def run_crawl(
    variant: CrawlVariant, profile: Profile, clients: list[str], log: Any
) -> list[CrawlOutcome]:
    """Crawl once per client against one sandbox, reset before each client."""
    from musicagent.testing import Sandbox

    preset = profile.preset_used if variant.preset else 0
    outcomes = []
    with (
        Sandbox(rate_limit=profile.rate_limit, rate_window=profile.rate_window, seed=0) as sandbox,
        tempfile.TemporaryDirectory(prefix="musicagent-bench-") as state_dir,
    ):
        for client in clients:
            jobs = _jobs(client, variant, profile, sandbox.base_url, state_dir)

            def before_go() -> None:
                sandbox.reset()  # data, counters and every rate window back to empty
                if preset:
                    sandbox.set_faults(preset_used=preset)

            log(f"  {variant.key}: {client} ({len(jobs)} process(es))…")
            started, runs = run_workers(jobs, timeout=profile.crawl_timeout(), before_go=before_go)
            outcome = _outcome(client, started, runs, sandbox.stats(), profile.crawl_timeout())
            log(
                f"    {outcome.seconds:.1f} s, {outcome.status_429} × 429, "
                f"{outcome.ok}/{profile.crawl_requests} fetched {outcome.problem}"
            )
            outcomes.append(outcome)
            time.sleep(0.1)
    return outcomes


def _verdict(outcome: CrawlOutcome, profile: Profile) -> str:
    parts = []
    missing = profile.crawl_requests - outcome.ok
    if missing:
        parts.append(f"{missing} releases missing")
    if outcome.errors:
        parts.append(", ".join(f"{count} × {name}" for name, count in outcome.errors.items()))
    if outcome.killed:
        parts.append(f"killed after {outcome.seconds:.0f} s")
    elif outcome.problem:
        parts.append(outcome.problem)
    return "; ".join(parts) or "all fetched"


def crawl_section(variant: CrawlVariant, profile: Profile, clients: list[str], log: Any) -> Section:
    """Run one crawl variant for every client and tabulate it."""
    outcomes = run_crawl(variant, profile, clients, log)
    preset = profile.preset_used if variant.preset else 0
    fastest = profile.fastest_crawl_seconds(preset)
    rule = f"{profile.rate_limit} per moving {profile.rate_window:g} s"
    rows, summary_values, targets = [], {}, []
    for outcome in outcomes:
        ratio = outcome.seconds / fastest if fastest else float("nan")
        shown = f">{outcome.seconds:.0f}" if outcome.killed else f"{outcome.seconds:.1f}"
        rows.append(
            [
                outcome.client,
                str(variant.processes),
                shown,
                f"{fastest:.0f}",
                f"{ratio:.2f}×",
                str(outcome.status_429),
                str(outcome.requests),
                f"{outcome.ok}/{profile.crawl_requests}",
                _verdict(outcome, profile),
            ]
        )
        missing = profile.crawl_requests - outcome.ok
        value = f"{ratio:.2f}× · {outcome.status_429} × 429"
        if missing:
            value += f" · {missing} missing"
        summary_values[outcome.client] = value
        if outcome.client == "musicagent":
            targets.append(
                Target(
                    f"{variant.title.lower()}: 0 × 429 and ≤ 1.05 × the fastest allowed time",
                    outcome.status_429 == 0 and ratio <= 1.05 and missing == 0,
                    f"{outcome.status_429} × 429, {ratio:.3f}× ({outcome.seconds:.1f} s "
                    f"for {fastest:.0f} s), {outcome.ok}/{profile.crawl_requests} fetched",
                )
            )
    what = {
        "crawl": "one process",
        "crawl-preset": f"{preset} of the {profile.rate_limit} requests already spent",
        "crawl-shared": "two processes, one token",
    }[variant.key]
    intro = (
        f"{profile.crawl_requests} requests (`GET /releases/{{id}}`) under the rule ({rule}), "
        f"{what}. Fastest the rule allows: {fastest:.0f} s plus network time. "
        "429s and requests are counted by the sandbox."
    )
    notes = []
    if variant.key == "crawl-shared":
        notes.append(
            "musicagent: both processes share one limiter through "
            "`DISCOGS_RATE_LIMIT_STATE_FILE` (SQLite); the peers have no shared state."
        )
    if variant.key == "crawl-preset":
        notes.append(
            f"Fastest time counts the {preset} spent requests as sent at the start: "
            f"window × floor((N − 1 + {preset}) / limit)."
        )
    notes.append(PEER_BEHAVIOUR)
    return Section(
        key=variant.key,
        title=f"{variant.title} ({profile.crawl_requests} requests, {rule})",
        intro=intro,
        headers=[
            "client",
            "processes",
            "seconds",
            "fastest allowed s",
            "time ÷ fastest",
            "429s",
            "requests sent",
            "fetched",
            "what happened",
        ],
        rows=rows,
        notes=notes,
        targets=targets,
        summary=[
            SummaryRow(
                {
                    "crawl": f"{profile.crawl_requests}-request crawl at {rule}: "
                    "time ÷ fastest allowed, 429s",
                    "crawl-preset": "… with half the budget already spent",
                    "crawl-shared": "… two processes sharing one token",
                }[variant.key],
                summary_values,
            )
        ],
    )
