"""Cache CPU: client CPU time per request on a cache miss and on a cache hit.

musicagent with its SQLite cache in a fresh temporary folder and no rate limit fetches the same
releases twice: the first pass misses (sends, stores one row per response), the second hits
(one lookup, no request). Beside them: plain ``httpx`` + ``response.json()`` (the floor) and
musicagent with its cache off, each from the overhead fetch loop. Target: a hit costs at most
half a miss.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.launch import WorkerJob, run_workers
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target
from benchmarks.requests_per_task import UNLIMITED

__all__ = ["cache_cpu_section"]

HIT_TARGET = 0.5
"""A cache hit may cost at most this fraction of a cache miss's CPU."""


def _job(task: str, client: str, base_url: str, profile: Profile, **options: Any) -> WorkerJob:
    from musicagent.testing import SANDBOX_TOKEN

    warmup = profile.overhead_warmup
    return WorkerJob(
        task=task,
        client=client,
        options={"base_url": base_url, "token": SANDBOX_TOKEN, "paced": False, **options},
        params={"first": warmup + 1, "warmup": warmup, "count": profile.overhead_requests},
    )


def cache_cpu_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Time misses and hits of musicagent's cache beside plain httpx and the cache off."""
    from musicagent.testing import Sandbox

    samples: dict[str, list[float]] = {"httpx": [], "off": [], "miss": [], "hit": []}
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
                }
                for name, job in jobs.items():
                    _started, (run,) = run_workers([job], timeout=600)
                    if run.result is None:
                        problems.append(f"{name}: {run.error}")
                        continue
                    result = run.result
                    if name == "cache":
                        samples["miss"].append(result["miss_cpu_seconds"] / result["requests"])
                        samples["hit"].append(result["hit_cpu_seconds"] / result["requests"])
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
        "miss": "musicagent, cache miss (SQLite)",
        "hit": "musicagent, cache hit (SQLite)",
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
    return Section(
        key="cache-cpu",
        title="Cache CPU per request: miss and hit",
        intro=(
            f"{profile.overhead_requests:,} `GET /releases/{{id}}` per pass after "
            f"{profile.overhead_warmup} untimed ones, median of {profile.overhead_repeats} "
            "run(s); no rate limit. The cache starts empty in a temporary folder: the first "
            "pass misses (one row written per response), the second hits the same releases."
        ),
        headers=["client", "CPU ms/request", "CPU ÷ plain httpx"],
        rows=rows,
        notes=problems,
        targets=targets,
        summary=[SummaryRow("Cache hit CPU ÷ cache miss CPU", values)],
    )
