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
end, so the destination is never half-written; the destination is locked while an export
writes it, and `-`, devices and FIFOs are written through (`musicagent.export.destination`).
The CSV flattening rule is documented in `musicagent.export.flatten`, the choice of CSV columns
and the formula guard in `musicagent.export.csv_exporter`, checkpoints and resuming in
`musicagent.export.job`.
"""

from __future__ import annotations

from musicagent.errors import (
    CheckpointError,
    CheckpointMismatchError,
    ExportLockedError,
    LocalIOError,
    UnsafeFileError,
)
from musicagent.export.base import Exporter, ExportResult, RecordEncoder, StreamExporter
from musicagent.export.checkpoint import Checkpoint
from musicagent.export.csv_exporter import EXTRA_COLUMN, CsvExporter, neutralise_formula
from musicagent.export.destination import STDOUT, Destination, resolve_destination
from musicagent.export.flatten import (
    Flattener,
    cell_text,
    custom_field_names,
    flatten_record,
    readable_join,
    schema_columns,
)
from musicagent.export.job import (
    FINISH_STEPS,
    PRIVATE_KINDS,
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
    "FINISH_STEPS",
    "FORMATS",
    "PRIVATE_KINDS",
    "STDOUT",
    "AsyncExportJob",
    "AsyncFetchPage",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatchError",
    "CsvExporter",
    "Destination",
    "ExportJob",
    "ExportLockedError",
    "ExportResult",
    "Exporter",
    "FetchPage",
    "Flattener",
    "JsonExporter",
    "JsonLinesExporter",
    "LocalIOError",
    "PageResult",
    "ProgressCallback",
    "RecordEncoder",
    "SqliteExporter",
    "StreamExporter",
    "UnsafeFileError",
    "async_page_source",
    "cell_text",
    "custom_field_names",
    "exporter_for",
    "flatten_record",
    "neutralise_formula",
    "page_contents",
    "page_source",
    "readable_join",
    "resolve_destination",
    "schema_columns",
]
