"""Exporting Discogs lists to files: CSV, JSON, JSON Lines and SQLite, streamed and resumable.

One-shot export of any iterable of items (Pydantic models or dicts), memory flat however many:

    from musicagent.export import exporter_for

    exporter = exporter_for("csv", item_model=CollectionItem, excel=True)
    exporter.export(client.collection.iter_collection_items_by_folder("rodney", 0), "out.csv")

Resumable, page by page, with a checkpoint beside the destination:

    job = ExportJob(fetch_page=page_source(...), exporter=exporter, destination="out.csv",
                    kind="collection", query={"username": "rodney", "folder_id": 0})
    job.run(resume=True)

Every exporter writes a temporary file beside the destination and renames it into place at the
end, so the destination is never half-written. The CSV flattening rule is documented in
`musicagent.export.flatten`, the choice of CSV columns in `musicagent.export.csv_exporter`,
checkpoints and resuming in `musicagent.export.job`.
"""

from __future__ import annotations

from musicagent.export.base import Exporter, ExportResult, RecordEncoder, StreamExporter
from musicagent.export.checkpoint import Checkpoint, CheckpointError, CheckpointMismatchError
from musicagent.export.csv_exporter import EXTRA_COLUMN, CsvExporter
from musicagent.export.flatten import (
    Flattener,
    cell_text,
    custom_field_names,
    flatten_record,
    readable_join,
    schema_columns,
)
from musicagent.export.job import (
    AsyncExportJob,
    AsyncFetchPage,
    ExportJob,
    FetchPage,
    PageResult,
    ProgressCallback,
)
from musicagent.export.json_exporters import JsonExporter, JsonLinesExporter
from musicagent.export.page_source import async_page_source, page_contents, page_source
from musicagent.export.registry import FORMATS, exporter_for
from musicagent.export.sqlite_exporter import SqliteExporter

__all__ = [
    "EXTRA_COLUMN",
    "FORMATS",
    "AsyncExportJob",
    "AsyncFetchPage",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatchError",
    "CsvExporter",
    "ExportJob",
    "ExportResult",
    "Exporter",
    "FetchPage",
    "Flattener",
    "JsonExporter",
    "JsonLinesExporter",
    "PageResult",
    "ProgressCallback",
    "RecordEncoder",
    "SqliteExporter",
    "StreamExporter",
    "async_page_source",
    "cell_text",
    "custom_field_names",
    "exporter_for",
    "flatten_record",
    "page_contents",
    "page_source",
    "readable_join",
    "schema_columns",
]
