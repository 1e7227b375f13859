"""Startup: what a fresh process pays before its first answer, each beside its floor.

    python -m benchmarks.cli_startup [--runs N]

Four measures, each the median of N fresh processes, the process and its floor alternating so
a slow moment of the machine hits both:

- `import musicagent` against `import httpx` (time of the import statement itself);
- `musicagent --version`, process start to exit, against `python -c pass`;
- a fresh process that builds `Discogs(token=…)` with its defaults (cache on, in an empty
  cache folder, so the request is a miss) and calls `database.get_release(1)`, against a plain
  httpx script sending the same GET, and beside the typed floor: the same httpx script parsing
  the body into the generated `Release` model (Pydantic's import and the model's build are
  paid by any client that returns Pydantic models; what is left is what this client adds);
- `musicagent api database get-release 1 --json` (cache off), against the same httpx script.

Requests go to the loopback sandbox. Every process runs with its bytecode caches written first
(`compileall`), as an installed package has them, and with `PYTHONDONTWRITEBYTECODE` cleared.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.launch import ROOT
from benchmarks.profiles import Profile
from benchmarks.report import Section, Target

__all__ = ["Measure", "measure", "startup_section"]

PLAIN = (
    "import sys, httpx\n"
    "r = httpx.get(sys.argv[1] + '/releases/1', headers={'Authorization': 'Discogs token=' + "
    "sys.argv[2], 'User-Agent': 'bench'})\n"
    "r.raise_for_status()\n"
    "sys.stdout.write(r.text)\n"
)
"""The floor of a first response: the same GET with nothing but httpx."""

TYPED = (
    "import sys, httpx\n"
    "from discogs_models import Release\n"
    "r = httpx.get(sys.argv[1] + '/releases/1', headers={'Authorization': 'Discogs token=' + "
    "sys.argv[2], 'User-Agent': 'bench'})\n"
    "r.raise_for_status()\n"
    "sys.stdout.write(Release.model_validate_json(r.content).title)\n"
)
"""The typed floor of a first response: the same GET parsed into the generated model."""

CLIENT = (
    "import sys\n"
    "from musicagent import Discogs\n"
    "with Discogs(token=sys.argv[2], base_url=sys.argv[1]) as client:\n"
    "    release = client.database.get_release(1)\n"
    "sys.stdout.write(release.title)\n"
)


def _import_timer(module: str) -> str:
    return (
        "import time\n"
        "start = time.perf_counter()\n"
        f"import {module}\n"
        "print(time.perf_counter() - start)\n"
    )


@dataclass(frozen=True)
class Measure:
    """One startup measure: musicagent's median, its floor's, and the target it is held to."""

    name: str
    ours: float
    floor: float
    floor_name: str
    goal: str
    limit: float | None
    """The most the measure may be: a ratio to the floor, or seconds when `absolute`; None
    for a row shown for comparison only."""
    absolute: bool = False

    @property
    def ratio(self) -> float:
        return self.ours / self.floor

    @property
    def holds(self) -> bool:
        if self.limit is None:
            return True
        return (self.ours if self.absolute else self.ratio) <= self.limit


def _env(base_url: str, token: str, home: str, *, cache: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        {
            "DISCOGS_BASE_URL": base_url,
            "DISCOGS_TOKEN": token,
            "XDG_CACHE_HOME": home,
            "XDG_CONFIG_HOME": home,
            "DISCOGS_CACHE_DIR": str(Path(home) / "musicagent-cache"),
        }
    )
    if not cache:
        env["DISCOGS_CACHE"] = "off"
    return env


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _reported(argv: list[str], env: dict[str, str]) -> float:
    """The seconds a process prints (an import timed inside it)."""
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def _pairs(runs: int, ours: Any, floor: Any) -> tuple[float, float]:
    mine, base = _rounds(runs, ours, floor)
    return mine, base


def _rounds(runs: int, *measures: Any) -> list[float]:
    """The median of each measure over `runs` rounds, the measures taking turns in each."""
    times: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for seconds, take in zip(times, measures, strict=True):
            seconds.append(take())
    return [statistics.median(seconds) for seconds in times]


def measure(runs: int, log: Any = None) -> list[Measure]:
    """Every startup measure, each over `runs` alternating fresh processes."""
    from discogs_sandbox import SANDBOX_TOKEN, Sandbox

    # Bytecode as an installed package has it: otherwise the first runs time the compiler.
    for folder in ("overlay", "generated"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)
    python = sys.executable
    script = str(Path(python).parent / "musicagent")
    results: list[Measure] = []
    with Sandbox(rate_limit=10_000) as sandbox, tempfile.TemporaryDirectory() as tmp:
        url = sandbox.base_url
        off = _env(url, SANDBOX_TOKEN, tmp, cache=False)

        ours, floor = _pairs(
            runs,
            lambda: _reported([python, "-c", _import_timer("musicagent")], off),
            lambda: _reported([python, "-c", _import_timer("httpx")], off),
        )
        results.append(
            Measure("import musicagent", ours, floor, "import httpx", "≤ 0.5× import httpx", 0.5)
        )
        ours, floor = _pairs(
            runs,
            lambda: _wall([script, "--version"], off),
            lambda: _wall([python, "-c", "pass"], off),
        )
        results.append(
            Measure(
                "musicagent --version",
                ours,
                floor,
                "python -c pass",
                "≤ 0.15 s",
                0.15,
                absolute=True,
            )
        )

        def first_response() -> float:
            # A fresh, empty cache folder each run: the default client's first request misses.
            with tempfile.TemporaryDirectory(dir=tmp) as home:
                return _wall(
                    [python, "-c", CLIENT, url, SANDBOX_TOKEN],
                    _env(url, SANDBOX_TOKEN, home, cache=True),
                )

        plain = [python, "-c", PLAIN, url, SANDBOX_TOKEN]
        typed = [python, "-c", TYPED, url, SANDBOX_TOKEN]
        ours, floor, typed_floor = _rounds(
            runs, first_response, lambda: _wall(plain, off), lambda: _wall(typed, off)
        )
        name = "fresh process → first response (Discogs, defaults)"
        results.append(Measure(name, ours, floor, "httpx script", "≤ 1.5× the httpx script", 1.5))
        results.append(
            Measure(
                "typed floor: httpx script + `Release.model_validate_json`",
                typed_floor,
                floor,
                "httpx script",
                "(the least a client returning Pydantic models pays)",
                None,
            )
        )
        results.append(
            Measure(
                f"{name}, beside the typed floor",
                ours,
                typed_floor,
                "typed floor",
                "(what this client adds)",
                None,
            )
        )
        ours, floor = _pairs(
            runs,
            lambda: _wall([script, "api", "database", "get-release", "1", "--json"], off),
            lambda: _wall(plain, off),
        )
        results.append(
            Measure(
                "musicagent api database get-release 1 --json",
                ours,
                floor,
                "httpx script",
                "≤ 2× the httpx script",
                2.0,
            )
        )
        if log is not None:
            for m in results:
                log(f"  startup: {m.name}: {m.ours:.3f} s, {m.floor_name} {m.floor:.3f} s")
    return results


def startup_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """The startup measures as a results section, each target marked held or not."""
    results = measure(profile.startup_runs, log)
    rows = [
        [
            m.name,
            f"{m.ours * 1000:.0f} ms",
            f"{m.floor_name}: {m.floor * 1000:.0f} ms",
            f"{m.ratio:.2f}×",
            m.goal,
            "—" if m.limit is None else "held" if m.holds else "not held",
        ]
        for m in results
    ]
    targets = [
        Target(
            f"{m.name} {m.goal}",
            m.holds,
            f"{m.ours * 1000:.0f} ms ({m.ratio:.2f}× {m.floor_name})",
        )
        for m in results
        if m.limit is not None
    ]
    return Section(
        key="startup",
        title="Startup: fresh process to first answer",
        intro=(
            f"Median of {profile.startup_runs} fresh processes each, alternating with the "
            "floor; bytecode compiled first, as installed. The import is timed inside the "
            "process; the others from process start to exit. The first response uses the "
            "default client (cache on, an empty cache folder each run); the `api` command runs "
            "with the cache off."
        ),
        headers=["measure", "musicagent", "floor", "ratio", "target", "status"],
        rows=rows,
        targets=targets,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for m in measure(args.runs):
        if m.limit is None:
            print(f"{m.name}: {m.ours:.3f} s, {m.floor_name} {m.floor:.3f} s, {m.ratio:.2f}×")
            continue
        limit = f"{m.limit:.2f} s" if m.absolute else f"{m.limit:g}×"
        print(
            f"{m.name}: {m.ours:.3f} s, {m.floor_name} {m.floor:.3f} s, {m.ratio:.2f}× "
            f"(target {limit}: {'held' if m.holds else 'not held'})"
        )


if __name__ == "__main__":
    main()
