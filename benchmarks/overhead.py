"""Overhead: requests per second and client CPU time per request, with no rate limit at all.

Every client fetches the same releases (``GET /releases/{id}``) from a sandbox whose limit is
never reached: musicagent with ``rate_limiter=False`` and its cache off, the peers as they
come, and plain ``httpx`` + ``response.json()`` as the floor. CPU time is the worker process's
own (user + system, `time.process_time`); the sandbox runs in another process. Requests per
second include the sandbox's own time, the same for everyone. In each run the clients live in
processes of their own that take turns (`run_in_turns`, 100 requests each per turn), so a
slow moment of the machine falls on every client alike.
"""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.launch import WorkerJob, rotated, run_in_turns, turns_for
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target
from benchmarks.requests_per_task import UNLIMITED

__all__ = ["overhead_section"]

TARGET_RATIO = 1.3
"""musicagent's CPU per request may be at most this multiple of plain httpx's."""


def overhead_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Time the fetch loop of every client (and httpx) and tabulate medians."""
    from musicagent.testing import SANDBOX_TOKEN, Sandbox

    everyone = ["httpx", "httpx+model", *clients]
    cpu: dict[str, list[float]] = {name: [] for name in everyone}
    rate: dict[str, list[float]] = {name: [] for name in everyone}
    problems: dict[str, str] = {}
    with Sandbox(rate_limit=UNLIMITED, seed=0) as sandbox:
        turns = turns_for(profile.overhead_requests)
        for repeat in range(profile.overhead_repeats):
            # A different client goes first in each run.
            order = rotated(everyone, repeat)
            jobs = [
                WorkerJob(
                    task="fetch_loop",
                    client=name,
                    options={
                        "base_url": sandbox.base_url,
                        "token": SANDBOX_TOKEN,
                        "paced": False,
                    },
                    params={
                        "first": 1,
                        "warmup": profile.overhead_warmup,
                        "count": profile.overhead_requests,
                        "turns": turns,
                    },
                )
                for name in order
            ]
            runs = run_in_turns(jobs, timeout=900)
            for name, run in zip(order, runs, strict=True):
                if run.result is None:
                    problems[name] = run.error
                    continue
                result = run.result
                cpu[name].append(result["cpu_seconds"] / result["requests"])
                rate[name].append(result["requests"] / result["wall_seconds"])
                log(
                    f"  overhead #{repeat + 1}: {name}: {rate[name][-1]:.0f} req/s, "
                    f"{cpu[name][-1] * 1e3:.3f} ms CPU/request"
                )
    median_cpu = {name: statistics.median(v) for name, v in cpu.items() if v}
    median_rate = {name: statistics.median(v) for name, v in rate.items() if v}
    floor = median_cpu.get("httpx")
    rows, values = [], {}
    for name in everyone:
        if name not in median_cpu:
            rows.append([name, "—", "—", "—", problems.get(name, "no result")])
            continue
        ratio = median_cpu[name] / floor if floor else float("nan")
        rows.append(
            [
                name,
                f"{median_rate[name]:.0f}",
                f"{median_cpu[name] * 1e3:.3f}",
                f"{ratio:.2f}×",
                problems.get(name, ""),
            ]
        )
        if name in clients:
            values[name] = f"{ratio:.2f}× ({median_cpu[name] * 1e3:.2f} ms)"
    targets = []
    if "musicagent" in median_cpu and floor:
        ours = median_cpu["musicagent"]
        targets.append(
            Target(
                f"CPU per request within {TARGET_RATIO} × plain httpx",
                ours <= TARGET_RATIO * floor,
                f"{ours / floor:.2f}× ({ours * 1e3:.3f} ms vs {floor * 1e3:.3f} ms)",
            )
        )
        peers = {n: v for n, v in median_cpu.items() if n in clients and n != "musicagent"}
        if peers:
            slower = [n for n, v in peers.items() if ours >= v]
            targets.append(
                Target(
                    "CPU per request below each peer",
                    not slower,
                    ", ".join(f"{n} {v * 1e3:.3f} ms" for n, v in peers.items())
                    + f" vs musicagent {ours * 1e3:.3f} ms",
                )
            )
    return Section(
        key="overhead",
        title="Overhead per request (no rate limit)",
        intro=(
            f"{profile.overhead_requests:,} `GET /releases/{{id}}` per client after "
            f"{profile.overhead_warmup} untimed ones, median of {profile.overhead_repeats} "
            "run(s); in each run the clients take turns, 100 requests each per turn. CPU is "
            "the client process's own time; plain httpx decodes the JSON to a "
            "dict and is the floor. musicagent: `rate_limiter=False`, cache off, everything "
            "else as shipped (retries, logging, stats, one Pydantic parse per response)."
        ),
        headers=["client", "requests/s", "CPU ms/request", "CPU ÷ plain httpx", "problem"],
        rows=rows,
        notes=[
            "`httpx+model` is plain httpx parsing each body into musicagent's `Release` model "
            "(`model_validate_json`): the floor for any client that returns typed models. The "
            "gap between it and musicagent is the transport stack (retries, auth, logging, "
            "stats) and the request building.",
            "python3-discogs-client opens a new connection for every request (it calls "
            "`requests.request` without a session).",
            "discogs-sdk and musicagent validate every response into Pydantic models; "
            "python3-discogs-client keeps the dict and reads fields lazily.",
        ],
        targets=targets,
        summary=[SummaryRow("Client CPU per request, no rate limit (plain httpx = 1.00×)", values)],
    )
