"""Export scale: time and peak memory of exporting 10,000 and 100,000 collection items.

Each (format, size) runs `benchmarks/export_scale.py --child …` in a fresh process, so the
peak resident set size belongs to that export alone. The peers have no exporter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.adapters import PEERS
from benchmarks.export_scale import REPORT_VARIABLE
from benchmarks.launch import ROOT, clean_environment
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target

__all__ = ["PEAK_RSS_TARGET_MB", "export_section"]

PEAK_RSS_TARGET_MB = 150.0
"""100,000 items must export in less peak memory than this."""


def run_export(format_name: str, count: int) -> dict[str, Any]:
    """One export in a subprocess; its JSON report line as a dict.

    The child starts from `benchmarks/child_usage.py`, a tiny parent: started from this
    (large) process, the child's peak RSS would include this process's resident size.
    """
    with tempfile.TemporaryDirectory() as folder:
        usage_file = Path(folder) / "usage.json"
        report_file = Path(folder) / "report.json"
        done = subprocess.run(
            [
                sys.executable,
                "-S",
                str(ROOT / "benchmarks" / "child_usage.py"),
                str(usage_file),
                sys.executable,
                str(ROOT / "benchmarks" / "export_scale.py"),
                "--child",
                format_name,
                str(count),
                "export",
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            env={**clean_environment(), REPORT_VARIABLE: str(report_file)},
            timeout=1800,
        )
        if done.returncode != 0 or not report_file.exists():
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            return {"error": lines[-1] if lines else f"exit status {done.returncode}"}
        row: dict[str, Any] = json.loads(report_file.read_text(encoding="utf-8"))
        usage = json.loads(usage_file.read_text(encoding="utf-8"))
    row["peak_rss_mb"] = round(usage["peak_rss_kib"] / 1024, 1)
    return row


def export_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Export each size to each format and tabulate time and peak RSS."""
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for count in profile.export_sizes:
        for format_name in profile.export_formats:
            row = run_export(format_name, count)
            results[format_name, count] = row
            log(f"  export: {format_name} {count:,}: {row}")
    rows, targets, values = [], [], {}
    largest = max(profile.export_sizes)
    for (format_name, count), row in results.items():
        if "error" in row:
            rows.append([format_name, f"{count:,}", "—", "—", "—", "—", row["error"]])
            continue
        rows.append(
            [
                format_name,
                f"{count:,}",
                f"{row['seconds']:.1f}",
                f"{count / row['seconds']:,.0f}",
                f"{row['peak_rss_mb']:.0f}",
                f"{row['megabytes_written']:.1f}",
                "",
            ]
        )
        if count == largest:
            values[format_name] = f"{row['seconds']:.0f} s, {row['peak_rss_mb']:.0f} MB"
    if largest >= 100_000:
        for format_name in profile.export_formats:
            row = results.get((format_name, largest), {})
            peak = row.get("peak_rss_mb")
            targets.append(
                Target(
                    f"export {largest:,} items to {format_name} under "
                    f"{PEAK_RSS_TARGET_MB:.0f} MB peak RSS",
                    peak is not None and peak < PEAK_RSS_TARGET_MB,
                    f"{peak:.0f} MB in {row['seconds']:.1f} s"
                    if peak is not None
                    else row.get("error", "no result"),
                )
            )
    notes = []
    smallest = min(profile.export_sizes)
    if smallest != largest:
        for format_name in profile.export_formats:
            low = results.get((format_name, smallest), {}).get("peak_rss_mb")
            high = results.get((format_name, largest), {}).get("peak_rss_mb")
            if low is not None and high is not None:
                notes.append(
                    f"{format_name}: peak RSS {low:.0f} MB at {smallest:,} items, "
                    f"{high:.0f} MB at {largest:,} — memory stays flat as the export grows "
                    "(items are streamed)."
                    if high - low < 20
                    else f"{format_name}: peak RSS grows from {low:.0f} MB at {smallest:,} items "
                    f"to {high:.0f} MB at {largest:,}."
                )
    notes.append(
        "Items are synthetic collection items parsed into `CollectionItem` models and streamed "
        "to the exporter from an iterator, as `iter_collection_items_by_folder` yields them."
    )
    summary_values = {"musicagent": "; ".join(f"{f}: {v}" for f, v in values.items())}
    summary_values.update({peer: "no exporter" for peer in PEERS if peer in clients})
    return Section(
        key="export",
        title="Export scale",
        intro=(
            "musicagent's exporters writing a collection of synthetic items, each size and "
            "format in a fresh process (`benchmarks/export_scale.py`)."
        ),
        headers=["format", "items", "seconds", "items/s", "peak RSS MB", "MB written", "problem"],
        rows=rows,
        notes=notes,
        targets=targets,
        summary=[SummaryRow(f"Export {largest:,} items: time, peak RSS", summary_values)],
    )
