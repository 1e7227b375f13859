"""The export users run: `musicagent export collection … --format jsonl|csv` over loopback HTTP.

The real command line, in a fresh process, exports the sandbox user's whole collection from the
sandbox (`musicagent.testing.Sandbox`, hosted by this process, rate limit off) to a file. Beside
it, the floor (`benchmarks/export_floor.py`): a plain ``httpx`` + ``orjson`` loop in a process of
its own that fetches the same pages (100 items each) and writes every item as one JSON line.
The sandbox costs both the same, so the ratio that says what the client costs is the *CPU time
of the client process* (user + system); wall times are shown beside it. CPU and peak RSS
(``ru_maxrss``) come from ``wait4`` in `benchmarks/child_usage.py`, a small parent of its own.

The command line runs with its defaults (cache on, in a fresh temporary folder; limiter on, its
budget raised through ``DISCOGS_RATE_LIMIT_REQUESTS`` so it never paces) and once more with
``--no-cache``. Runs alternate and the best of the repeats counts.

    .venv/bin/python -m benchmarks.export_cli              # 100,000 items, best of 2
    .venv/bin/python -m benchmarks.export_cli --items 10000 --repeats 1

Targets: JSON Lines ≤ 2× the floor's CPU, CSV ≤ 3×, peak RSS < 100 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.launch import ROOT, clean_environment
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target
from benchmarks.requests_per_task import UNLIMITED

__all__ = ["CSV_TARGET", "JSONL_TARGET", "PEAK_RSS_TARGET_MB", "export_cli_section", "main"]

JSONL_TARGET = 2.0
"""A JSON Lines export may cost at most this many times the floor's CPU."""
CSV_TARGET = 3.0
"""A CSV export may cost at most this many times the floor's CPU."""
PEAK_RSS_TARGET_MB = 100.0
"""Peak resident memory of the exporting process must stay below this."""
REPEATS = {"full": 3, "quick": 1}
"""Runs of every variant per profile (alternating; the best counts)."""
PER_PAGE = 100
USERNAME = "sandbox"
FLOOR = ROOT / "benchmarks" / "export_floor.py"
"""The floor's script: a process importing httpx and orjson only."""
LAUNCHER = ROOT / "benchmarks" / "child_usage.py"
"""Starts each measured command from a small process, so its peak RSS is its own."""


@dataclass(frozen=True)
class Variant:
    """One measured command: a label, and the arguments after the base URL and output."""

    key: str
    label: str
    fmt: str
    cli_args: tuple[str, ...] = ()
    floor: bool = False


VARIANTS = (
    Variant("floor", "plain httpx + orjson → JSON Lines (floor)", "jsonl", floor=True),
    Variant("jsonl", "musicagent export --format jsonl (defaults: cache on)", "jsonl"),
    Variant("csv", "musicagent export --format csv (defaults: cache on)", "csv"),
    Variant(
        "jsonl-nocache", "musicagent export --format jsonl --no-cache", "jsonl", ("--no-cache",)
    ),
    Variant("csv-nocache", "musicagent export --format csv --no-cache", "csv", ("--no-cache",)),
)


@dataclass(frozen=True)
class Measured:
    """What one run cost its process."""

    wall: float
    cpu: float
    peak_rss_mb: float
    lines: int


def _command(variant: Variant, base_url: str, token: str, out: Path) -> list[str]:
    if variant.floor:
        return [sys.executable, str(FLOOR), base_url, token, str(out)]
    script = Path(sys.executable).with_name("musicagent")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "musicagent.cli"]
    return [
        *program,
        "export",
        "collection",
        USERNAME,
        "--format",
        variant.fmt,
        "--out",
        str(out),
        "--base-url",
        base_url,
        *variant.cli_args,
    ]


def run_variant(variant: Variant, base_url: str, token: str) -> Measured:
    """One run in a fresh process, in a fresh temporary folder (output, cache)."""
    with tempfile.TemporaryDirectory(prefix="musicagent-bench-export-") as tmp:
        out = Path(tmp) / f"collection.{variant.fmt}"
        env = clean_environment(
            {
                "DISCOGS_TOKEN": token,
                "DISCOGS_RATE_LIMIT_REQUESTS": str(UNLIMITED),
                "DISCOGS_CACHE_DIR": str(Path(tmp) / "cache"),
                "DISCOGS_EXPORT_DIR": tmp,
            }
        )
        usage_file = Path(tmp) / "usage.json"
        done = subprocess.run(
            [
                sys.executable,
                "-S",
                str(LAUNCHER),
                str(usage_file),
                *_command(variant, base_url, token, out),
            ],
            cwd=tmp,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        if done.returncode != 0 or not usage_file.exists():
            lines = [line for line in done.stderr.decode(errors="replace").splitlines() if line]
            raise RuntimeError(lines[-1] if lines else f"exit status {done.returncode}")
        usage = json.loads(usage_file.read_text(encoding="utf-8"))
        with out.open("rb") as handle:
            lines_written = sum(
                chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")
            )
    # Linux reports kibibytes, macOS bytes.
    kib = usage["peak_rss_kib"] / 1024 if sys.platform == "darwin" else usage["peak_rss_kib"]
    return Measured(usage["wall"], usage["cpu"], kib / 1024, lines_written)


def measure(items: int, repeats: int, log: Any) -> tuple[dict[str, Measured], list[str]]:
    """Best run (least CPU) of every variant, and the problems met."""
    from musicagent.testing import SANDBOX_TOKEN, Sandbox

    best: dict[str, Measured] = {}
    problems: list[str] = []
    with Sandbox(rate_limit=UNLIMITED, collection_size=items, seed=0) as sandbox:
        for repeat in range(repeats):
            for variant in VARIANTS:
                try:
                    result = run_variant(variant, sandbox.base_url, SANDBOX_TOKEN)
                except (RuntimeError, OSError) as exc:
                    problems.append(f"{variant.key}: {exc}")
                    continue
                log(
                    f"  export-cli #{repeat + 1} {variant.key}: cpu {result.cpu:.2f} s, "
                    f"wall {result.wall:.2f} s, peak {result.peak_rss_mb:.0f} MB"
                )
                known = best.get(variant.key)
                if known is None or result.cpu < known.cpu:
                    best[variant.key] = result
    return best, problems


def _lines_expected(variant: Variant, items: int) -> int:
    return items + 1 if variant.fmt == "csv" else items  # CSV: the header row


def export_cli_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Run every variant and compare each with the floor (the profile's largest export size)."""
    return cli_export_section(max(profile.export_sizes), REPEATS.get(profile.name, 1), log)


def cli_export_section(items: int, repeats: int, log: Any) -> Section:
    """Run every variant `repeats` times on `items` items and compare each with the floor."""
    best, problems = measure(items, repeats, log)
    floor = best.get("floor")
    rows: list[list[str]] = []
    for variant in VARIANTS:
        result = best.get(variant.key)
        if result is None:
            rows.append([variant.label, "—", "—", "—", "—", "—"])
            continue
        if result.lines != _lines_expected(variant, items):
            problems.append(f"{variant.key}: {result.lines:,} lines written for {items:,} items")
        rows.append(
            [
                variant.label,
                f"{result.cpu:.2f}",
                f"{result.cpu / floor.cpu:.2f}×" if floor else "—",
                f"{result.wall:.2f}",
                f"{result.wall / floor.wall:.2f}×" if floor else "—",
                f"{result.peak_rss_mb:.0f}",
            ]
        )
    targets: list[Target] = []
    values: dict[str, str] = {}
    if floor is not None:
        for key, limit in (("jsonl", JSONL_TARGET), ("csv", CSV_TARGET)):
            result = best.get(key)
            if result is None:
                continue
            ratio = result.cpu / floor.cpu
            targets.append(
                Target(
                    f"`musicagent export collection … --format {key}` of {items:,} items over "
                    f"loopback ≤ {limit:g}× the httpx + orjson floor (CPU)",
                    ratio <= limit,
                    f"{ratio:.2f}× ({result.cpu:.2f} s vs {floor.cpu:.2f} s; wall "
                    f"{result.wall:.1f} s vs {floor.wall:.1f} s)",
                )
            )
            values.setdefault("musicagent", "")
            values["musicagent"] += ("; " if values["musicagent"] else "") + f"{key} {ratio:.2f}×"
    peaks = {key: best[key].peak_rss_mb for key in ("jsonl", "csv") if key in best}
    if peaks:
        worst = max(peaks.values())
        targets.append(
            Target(
                f"peak RSS of the exporting process < {PEAK_RSS_TARGET_MB:.0f} MB",
                worst < PEAK_RSS_TARGET_MB,
                ", ".join(f"{key} {peak:.0f} MB" for key, peak in peaks.items()),
            )
        )
    notes = [
        "CPU is user + system time of the exporting process alone (the sandbox runs in "
        "another); the sandbox's own time to build each page is in both wall times, so the wall "
        "ratio understates what the client costs.",
        *problems,
    ]
    return Section(
        key="export-cli",
        title="Export from the command line, over HTTP",
        intro=(
            f"`musicagent export collection {USERNAME} --format jsonl|csv` of {items:,} items "
            f"({items // PER_PAGE:,} pages of {PER_PAGE}) from the sandbox over loopback, rate "
            "limit off, each run in a fresh process and temporary folder; best of "
            f"{repeats} (`benchmarks/export_cli.py`)."
        ),
        headers=["run", "CPU s", "CPU ÷ floor", "wall s", "wall ÷ floor", "peak RSS MB"],
        rows=rows,
        notes=notes,
        targets=targets,
        summary=[SummaryRow(f"CLI export of {items:,} items, CPU ÷ httpx + orjson", values)],
    )


def main(argv: list[str] | None = None) -> None:
    """Run the comparison alone and print its table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export_cli")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=REPEATS["full"])
    args = parser.parse_args(argv)
    from benchmarks.report import markdown_table

    section = cli_export_section(
        args.items, args.repeats, lambda message: print(message, file=sys.stderr, flush=True)
    )
    print(markdown_table(section.headers, section.rows))
    for target in section.targets:
        print(f"- {'holds' if target.holds else 'NOT held'}: {target.goal}: {target.measured}")
    for note in section.notes:
        print(f"- {note}")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
