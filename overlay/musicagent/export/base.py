"""What every exporter is: the `Exporter` interface, its result, and the shared streaming loop.

An export is a stream: items are read one at a time, encoded and written, so memory stays flat
however many pass. Each format is split into the two halves a resumable export needs:

- a `RecordEncoder` turns records into bytes for a *staging* file: a preamble (the CSV header,
  the `[` of a JSON array), one chunk per record, and a trailer added at the very end;
- `Exporter.finish` turns a complete staging file into the destination (append the trailer and
  rename it into place; SQLite loads it into a database instead).

`Exporter.export` runs both halves in one go on a temporary file beside the destination;
`ExportJob` runs them page by page with a checkpoint, so an interrupted export can resume.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from musicagent.export.atomic import (
    checked_destination,
    discard,
    replace_into_place,
    staging_file,
)
from musicagent.export.records import Record, iter_records

__all__ = [
    "ExportResult",
    "Exporter",
    "Layout",
    "RecordEncoder",
    "StreamExporter",
    "write_records",
]

#: Decisions an exporter takes from the first records before writing (the CSV columns), as
#: JSON-ready data: a resumed export reads them back from its checkpoint.
Layout = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        destination: the file written.
        format: `csv`, `json`, `jsonl` or `sqlite`.
        items_written: how many items went in (for SQLite, rows upserted).
        bytes_written: size of the destination file.
        columns: the CSV header, when there is one.
        pages: pages fetched by a resumable export job (all runs together), else None.
    """

    destination: Path
    format: str
    items_written: int
    bytes_written: int
    columns: tuple[str, ...] = ()
    pages: int | None = None


class RecordEncoder(ABC):
    """Bytes of one format: a preamble, one chunk per record, a trailer."""

    def preamble(self) -> bytes:
        """Written once, before the first record (a header row, an opening bracket)."""
        return b""

    @abstractmethod
    def encode(self, record: Record, index: int) -> bytes:
        """The bytes of one record; `index` counts the records written before it (0-based)."""

    def trailer(self, count: int) -> bytes:
        """Written once after the last of `count` records (a closing bracket)."""
        return b""


def write_records(
    handle: BinaryIO, encoder: RecordEncoder, records: Iterable[Record], *, start: int
) -> int:
    """Encode and write records one by one; returns the running count (`start` + written)."""
    index = start
    for record in records:
        handle.write(encoder.encode(record, index))
        index += 1
    return index


class Exporter(ABC):
    """Writes a stream of items (Pydantic models or dicts) to a file in one format.

    Use `export(items, destination)`; `exporter_for(format, **options)` picks the class. The
    other methods are the building blocks `ExportJob` uses for resumable exports.
    """

    #: The format's name, as given to `exporter_for`.
    format_name: ClassVar[str]
    #: The usual file name ending, e.g. `.csv`.
    file_suffix: ClassVar[str]
    #: How many leading records `plan` looks at before the first byte is written.
    sample_size: int = 0

    def validate_data(self, items: Iterable[object]) -> Iterator[Record]:
        """Check the items as they stream past and yield each as a plain dict.

        Nothing is read ahead: a generator of a million items is consumed one at a time.

        Raises:
            InvalidParameterError: (`items`) when `items` is not an iterable of items, or (while
                iterating) for the first item that is neither a Pydantic model nor a dict.
        """
        return iter_records(items)

    def options(self) -> dict[str, Any]:
        """The settings that shape the output, as JSON-ready data (hashed into checkpoints)."""
        return {}

    def plan(self, sample: Sequence[Record]) -> Layout:
        """Decide what must be fixed before writing (the CSV columns) from the first records."""
        return {}

    @abstractmethod
    def staging_encoder(self, layout: Layout) -> RecordEncoder:
        """The encoder of the staging file for this layout."""

    @abstractmethod
    def finish(
        self, staged: Path, destination: Path, *, layout: Layout, items_written: int
    ) -> ExportResult:
        """Turn a complete staging file into the destination, atomically; the staging file is
        consumed (renamed or removed)."""

    def export(self, items: Iterable[object], destination: str | os.PathLike[str]) -> ExportResult:
        """Write every item to `destination`, streaming, through a temporary file that is
        renamed into place at the end: the destination is never half-written.

        Raises:
            InvalidParameterError: (`destination`) when the file cannot be created there;
                (`items`) for an item that is neither a Pydantic model nor a dict.
        """
        path = checked_destination(destination)
        records = self.validate_data(items)
        sample = list(islice(records, self.sample_size))
        layout = self.plan(sample)
        encoder = self.staging_encoder(layout)
        with staging_file(path) as (staged, handle):
            handle.write(encoder.preamble())
            count = write_records(handle, encoder, chain(sample, records), start=0)
        try:
            return self.finish(staged, path, layout=layout, items_written=count)
        except BaseException:
            discard(staged)
            raise


class StreamExporter(Exporter):
    """A format written as one byte stream (CSV, JSON, JSON Lines): the staging file is the
    final file minus its trailer."""

    def finish(
        self, staged: Path, destination: Path, *, layout: Layout, items_written: int
    ) -> ExportResult:
        """Append the trailer, sync, and rename the staging file over the destination."""
        trailer = self.staging_encoder(layout).trailer(items_written)
        with staged.open("ab") as handle:
            handle.write(trailer)
            handle.flush()
            os.fsync(handle.fileno())
        replace_into_place(staged, destination)
        return ExportResult(
            destination=destination,
            format=self.format_name,
            items_written=items_written,
            bytes_written=destination.stat().st_size,
            columns=tuple(layout.get("columns", ())),
        )
