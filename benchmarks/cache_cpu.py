"""Cache CPU: client CPU time per request on a cache miss and on a cache hit.

musicagent with its SQLite cache in a fresh temporary folder and no rate limit fetches the same
releases twice: the first pass misses (sends, stores one row per response), the second hits
(one lookup, no request). It runs twice: with the limiter off, and as the default client (cache
on, limiter on, its budget raised through ``DISCOGS_RATE_LIMIT_REQUESTS`` so it never waits:
the limiter's bookkeeping is counted, not its pauses). Beside them: plain ``httpx`` +
``response.json()`` (the floor) and musicagent with its cache off, each from the overhead fetch
loop. All four run in processes of their own that take turns (`run_in_turns`): 100 requests
each per turn, so a slow moment of the machine falls on every client alike. Targets: a hit
costs at most half a miss; a default client's miss at most 1.3× the floor.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.launch import WorkerJob, rotated, run_in_turns, turns_for
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target
from benchmarks.requests_per_task import UNLIMITED

__all__ = ["cache_cpu_section"]

HIT_TARGET = 0.5
"""A cache hit may cost at most this fraction of a cache miss's CPU."""

DEFAULT_TARGET = 1.3
"""The default client's miss (cache on, limiter on) may cost at most this × plain httpx."""


def _job(
    task: str,
    client: str,
    base_url: str,
    profile: Profile,
    env: dict[str, str] | None = None,
    **options: Any,
) -> WorkerJob:
    from musicagent.testing import SANDBOX_TOKEN

    warmup = profile.overhead_warmup
    count = profile.overhead_requests
    return WorkerJob(
        task=task,
        client=client,
        options={"base_url": base_url, "token": SANDBOX_TOKEN, "paced": False, **options},
        params={"first": warmup + 1, "warmup": warmup, "count": count, "turns": turns_for(count)},
        env=env or {},
    )


def cache_cpu_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Time misses and hits of musicagent's cache beside plain httpx and the cache off."""
    from musicagent.testing import Sandbox

    samples: dict[str, list[float]] = {
        "httpx": [],
        "off": [],
        "miss": [],
        "hit": [],
        "default-miss": [],
        "default-hit": [],
    }
    problems: list[str] = []
    with Sandbox(rate_limit=UNLIMITED, seed=0) as sandbox:
        for repeat in range(profile.overhead_repeats):
            with tempfile.TemporaryDirectory(prefix="musicagent-bench-cache-") as tmp:
                jobs = {
                    "httpx": _job("fetch_loop", "httpx", sandbox.base_url, profile),
                    "off": _job("fetch_loop", "musicagent", sandbox.base_url, profile),
                    "cache": _job(
                        "cache_loop",
                        "musicagent",
                        sandbox.base_url,
                        profile,
                        cache_dir=str(Path(tmp) / "cache"),
                    ),
                    "default": _job(
                        "cache_loop",
                        "musicagent",
                        sandbox.base_url,
                        profile,
                        env={"DISCOGS_RATE_LIMIT_REQUESTS": str(UNLIMITED)},
                        cache_dir=str(Path(tmp) / "default-cache"),
                        paced=True,
                    ),
                }
                # A different client goes first in each run.
                names = rotated(list(jobs), repeat)
                runs = run_in_turns([jobs[name] for name in names], timeout=900)
                for name, run in zip(names, runs, strict=True):
                    if run.result is None:
                        problems.append(f"{name}: {run.error}")
                        continue
                    result = run.result
                    if name in ("cache", "default"):
                        prefix = "" if name == "cache" else "default-"
                        count = result["requests"]
                        samples[prefix + "miss"].append(result["miss_cpu_seconds"] / count)
                        samples[prefix + "hit"].append(result["hit_cpu_seconds"] / count)
                    else:
                        samples[name].append(result["cpu_seconds"] / result["requests"])
            log(
                f"  cache cpu #{repeat + 1}: "
                + ", ".join(f"{k} {v[-1] * 1e3:.3f} ms" for k, v in samples.items() if v)
            )
    median = {name: statistics.median(v) for name, v in samples.items() if v}
    floor = median.get("httpx")
    labels = {
        "httpx": "plain httpx + .json() (floor)",
        "off": "musicagent, cache off",
        "miss": "musicagent, cache miss (SQLite), limiter off",
        "hit": "musicagent, cache hit (SQLite), limiter off",
        "default-miss": "musicagent default client (cache on, limiter on): miss",
        "default-hit": "musicagent default client (cache on, limiter on): hit",
    }
    rows = []
    for name, label in labels.items():
        if name not in median:
            rows.append([label, "—", "—"])
            continue
        ratio = f"{median[name] / floor:.2f}×" if floor else "—"
        rows.append([label, f"{median[name] * 1e3:.3f}", ratio])
    targets = []
    values = {}
    if "miss" in median and "hit" in median:
        share = median["hit"] / median["miss"]
        targets.append(
            Target(
                f"a cache hit costs ≤ {HIT_TARGET} × a cache miss",
                share <= HIT_TARGET,
                f"{share:.2f}× ({median['hit'] * 1e3:.3f} ms vs {median['miss'] * 1e3:.3f} ms)",
            )
        )
        values["musicagent"] = f"hit {share:.2f}× a miss"
    if "default-miss" in median and floor:
        ratio = median["default-miss"] / floor
        targets.append(
            Target(
                f"CPU per request, default client (cache on, fresh entries, limiter on) ≤ "
                f"{DEFAULT_TARGET}× plain httpx",
                ratio <= DEFAULT_TARGET,
                f"{ratio:.2f}× ({median['default-miss'] * 1e3:.3f} ms vs {floor * 1e3:.3f} ms)",
            )
        )
    return Section(
        key="cache-cpu",
        title="Cache CPU per request: miss and hit",
        intro=(
            f"{profile.overhead_requests:,} `GET /releases/{{id}}` per pass after "
            f"{profile.overhead_warmup} untimed ones, median of {profile.overhead_repeats} "
            "run(s); no rate limit. The four clients run side by side in processes of their "
            "own that take turns, 100 requests each per turn. The cache starts empty in a "
            "temporary folder: the first pass misses (each response stored; SQLite writes "
            "them in groups), the second hits the same releases."
        ),
        headers=["client", "CPU ms/request", "CPU ÷ plain httpx"],
        rows=rows,
        notes=problems,
        targets=targets,
        summary=[SummaryRow("Cache hit CPU ÷ cache miss CPU", values)],
    )
