"""Search, walk every page of a list, and export it to CSV and JSON Lines.

DISCOGS_TOKEN=... python examples/advanced_usage.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
from itertools import islice
from pathlib import Path

from discogs_models import CollectionItem

from musicagent import Discogs
from musicagent.export import ExportJob, exporter_for, page_source


def main(output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    with Discogs() as client:
        # Search: the first ten releases; iter_search fetches 100 results per request, lazily.
        for result in islice(client.database.iter_search(q="nirvana", type="release"), 10):
            print(f"{result.id:>10}  {result.title}")

        me = client.users.get_identity().username

        # Stream a whole collection into a CSV file (written atomically).
        items = client.collection.iter_collection_items_by_folder(me, 0)
        written = exporter_for("csv", item_model=CollectionItem).export(
            items, output_dir / "collection.csv"
        )
        print(f"{written.items_written} collection items -> {written.destination}")

        # The same list as a resumable job: run it again after an interruption and it continues.
        job = ExportJob(
            fetch_page=page_source(
                client.collection.get_collection_items_by_folder, me, 0, items_key="releases"
            ),
            exporter=exporter_for("jsonl"),
            destination=output_dir / "collection.jsonl",
            kind="collection",
            query={"username": me, "folder_id": 0},
            on_progress=lambda done, total, page, pages: print(
                f"  page {page}/{pages}: {done}/{total}"
            ),
        )
        result = job.run(resume=True)
        print(f"{result.items_written} items -> {result.destination}")
        print(f"Requests sent: {client.stats.requests}, cache hits: {client.stats.cache_hits}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("exports"))
