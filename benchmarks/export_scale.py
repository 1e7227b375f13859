"""How exports scale: time and peak memory of exporting 10,000 and 100,000 collection items.

Each run happens in its own subprocess, so the peak resident set size (`ru_maxrss`) it reports
belongs to that run alone. Items are synthetic collection items shaped like the documentation
example of `GET /users/{username}/collection/folders/{folder_id}/releases`, parsed into
`CollectionItem` models as the client would return them, and generated lazily — the export sees
an iterator, exactly as with `client.collection.iter_collection_items_by_folder(...)`.

    .venv/bin/python benchmarks/export_scale.py               # CSV and JSON Lines, 10k and 100k
    .venv/bin/python benchmarks/export_scale.py --formats csv json sqlite --sizes 100000
    .venv/bin/python benchmarks/export_scale.py --mode job    # the resumable, paged engine

Target: 100,000 items in well under 150 MB peak RSS, whatever the format.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = "users_collection_folder_releases_get_200.json"
PAGE = 100


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def synthetic_item(template: dict[str, Any], number: int) -> dict[str, Any]:
    """One collection item like the documentation example, with its own ids and text."""
    item = copy.deepcopy(template)
    item["id"] = 1_000_000 + number
    item["instance_id"] = number + 1
    item["date_added"] = f"2024-01-{number % 28 + 1:02d}T12:00:00-08:00"
    info = item["basic_information"]
    info["id"] = item["id"]
    info["title"] = f'{info["title"]} #{number}, "take {number % 7}"'
    info["year"] = 1960 + number % 60
    info["artists"][0]["name"] = f"Artist {number % 997}"
    item["notes"] = [
        {"field_id": 1, "value": "Near Mint (NM or M-)"},
        {"field_id": 3, "value": f"shelf {number % 40}\nrow {number % 9}"},
    ]
    return item


REPORT_VARIABLE = "EXPORT_SCALE_REPORT"
"""Names a file the child writes its JSON report to."""


def items(count: int, first: int = 0) -> Iterator[Any]:
    """`count` CollectionItem models, built one at a time."""
    from discogs_models import CollectionItem
    from discogs_spec import load_example

    template = load_example(EXAMPLE)["releases"][0]
    for number in range(first, first + count):
        yield CollectionItem.model_validate(synthetic_item(template, number))


def child(format_name: str, count: int, mode: str) -> None:
    """One measured run; prints one JSON line."""
    from discogs_models import CollectionItem

    from musicagent.export import ExportJob, custom_field_names, exporter_for

    fields = custom_field_names([{"id": 1, "name": "Media"}, {"id": 3, "name": "Notes"}])
    options: dict[str, Any] = {"item_model": CollectionItem, "field_names": fields}
    if format_name == "sqlite":
        options["table"] = "collection"
    exporter = exporter_for(format_name, **options)
    baseline = peak_rss_mb()
    with tempfile.TemporaryDirectory() as folder:
        destination = Path(folder) / f"collection.{format_name}"
        started = time.perf_counter()
        if mode == "job":
            pages = -(-count // PAGE)

            def fetch_page(number: int) -> tuple[list[Any], int, int]:
                first = (number - 1) * PAGE
                return list(items(min(PAGE, count - first), first)), pages, count

            result = ExportJob(
                fetch_page=fetch_page,
                exporter=exporter,
                destination=destination,
                kind="collection",
                query={"username": "bench", "folder_id": 0},
            ).run()
        else:
            result = exporter.export(items(count), destination)
        seconds = time.perf_counter() - started
    report = json.dumps(
        {
            "format": format_name,
            "mode": mode,
            "items": result.items_written,
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "rss_after_imports_mb": round(baseline, 1),
            "megabytes_written": round(result.bytes_written / 1e6, 1),
        }
    )
    # Started through benchmarks/child_usage.py (whose stdout is discarded), the report goes
    # to the file it names; run by hand, it is printed.
    target = os.environ.get(REPORT_VARIABLE)
    if target:
        Path(target).write_text(report, encoding="utf-8")
    print(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", nargs="+", default=["csv", "jsonl"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--mode", choices=["export", "job"], default="export")
    parser.add_argument(
        "--child", nargs=3, metavar=("FORMAT", "COUNT", "MODE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return
    header = f"{'format':<7}{'mode':<8}{'items':>9}{'seconds':>10}{'peak RSS MB':>13}{'MB out':>9}"
    print(header)
    for count in args.sizes:
        for format_name in args.formats:
            done = subprocess.run(
                [sys.executable, __file__, "--child", format_name, str(count), args.mode],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{row['format']:<7}{row['mode']:<8}{row['items']:>9}{row['seconds']:>10}"
                f"{row['peak_rss_mb']:>13}{row['megabytes_written']:>9}"
            )


if __name__ == "__main__":
    main()
