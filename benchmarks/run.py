"""Run the benchmarks and write the results page: ``python -m benchmarks.run``.

    python -m benchmarks.run                          # everything, the real rule (≈ 25 minutes)
    python -m benchmarks.run --quick                  # smoke run: rule scaled to 10 per 1 s
    python -m benchmarks.run --only crawl,requests    # some scenarios
    python -m benchmarks.run --clients musicagent,discogs-sdk

Scenarios: ``crawl``, ``crawl-preset``, ``crawl-shared`` (``crawls`` selects all three; each
takes a few minutes by nature: the rule forces at least 120 s), ``requests``, ``overhead``,
``parsing``, ``export``, ``export-cli``, ``cache``, ``cache-cpu``, ``workers`` (four
processes, four tokens, one Redis; needs ``redis-server``), ``startup`` (import time,
``--version``, fresh process to first response, the ``api`` command). The page goes to
``benchmarks/results.md`` after a full run of every scenario; partial or quick runs only print
it unless ``--out`` names a file.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.adapters import CLIENTS, is_installed
from benchmarks.cache import cache_section
from benchmarks.cache_cpu import cache_cpu_section
from benchmarks.cli_startup import startup_section
from benchmarks.crawl import VARIANTS, crawl_section
from benchmarks.export_cli import export_cli_section
from benchmarks.exports import export_section
from benchmarks.launch import ROOT
from benchmarks.mirror_sync import mirror_section
from benchmarks.overhead import overhead_section
from benchmarks.parsing import parsing_section
from benchmarks.profiles import FULL, QUICK, Profile
from benchmarks.report import Section, render
from benchmarks.requests_per_task import requests_section
from benchmarks.workers import workers_section

__all__ = ["SCENARIOS", "main"]

Runner = Callable[[Profile, list[str], Callable[[str], None]], Section]


def _crawl_runner(key: str) -> Runner:
    def run(profile: Profile, clients: list[str], log: Callable[[str], None]) -> Section:
        return crawl_section(VARIANTS[key], profile, clients, log)

    return run


SCENARIOS: dict[str, Runner] = {
    "crawl": _crawl_runner("crawl"),
    "crawl-preset": _crawl_runner("crawl-preset"),
    "crawl-shared": _crawl_runner("crawl-shared"),
    "requests": requests_section,
    "overhead": overhead_section,
    "parsing": parsing_section,
    "export": export_section,
    "export-cli": export_cli_section,
    "cache": cache_section,
    "cache-cpu": cache_cpu_section,
    "workers": workers_section,
    "startup": startup_section,
    "mirror": mirror_section,
}
"""Every scenario by the name ``--only`` takes, in the order they run and are reported."""

ALIASES = {"crawls": ["crawl", "crawl-preset", "crawl-shared"]}

DEFAULT_OUT = ROOT / "benchmarks" / "results.md"


def _names(text: str, known: list[str], what: str, aliases: dict[str, list[str]]) -> list[str]:
    chosen: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        expanded = aliases.get(name, [name])
        for item in expanded:
            if item not in known:
                allowed = ", ".join([*known, *aliases])
                raise SystemExit(f"error: unknown {what} {name!r}; choose from {allowed}")
            if item not in chosen:
                chosen.append(item)
    return chosen


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the chosen scenarios, print and write the results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="MusicAgent side by side with other Discogs clients, on the local sandbox.",
    )
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios: {', '.join([*SCENARIOS, *ALIASES])} (default: all)",
    )
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help=f"comma-separated clients: {', '.join(CLIENTS)} (default: all installed)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: the rule scaled down to 10 requests per 1 s window, N=25, small sizes",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="write the results page here (default: benchmarks/results.md after a full run)",
    )
    given = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(given)
    scenarios = _names(args.only, list(SCENARIOS), "scenario", ALIASES)
    requested = _names(args.clients, list(CLIENTS), "client", {})
    missing = [name for name in requested if not is_installed(name)]
    clients = [name for name in requested if name not in missing]
    if "musicagent" in missing:
        raise SystemExit("error: musicagent is not importable here; run `make bench`")
    if missing:
        _log(f"not installed, skipped: {', '.join(missing)} (pip install -e '.[bench]')")
    profile = QUICK if args.quick else FULL
    sections = []
    started = time.monotonic()
    for name in scenarios:
        _log(f"{name} ({profile.name})…")
        sections.append(SCENARIOS[name](profile, clients, _log))
    _log(f"done in {time.monotonic() - started:.0f} s")
    command = shlex.join(["python", "-m", "benchmarks.run", *given])
    page = render(sections, profile=profile.name, command=command)
    if missing:
        page += f"\nNot installed, not measured: {', '.join(missing)}.\n"
    print(page)
    out = args.out
    if out is None and not args.quick and scenarios == list(SCENARIOS) and not missing:
        out = DEFAULT_OUT
    if out is not None:
        out.write_text(page, encoding="utf-8")
        _log(f"written to {out}")


if __name__ == "__main__":
    main()
