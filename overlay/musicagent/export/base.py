"""What every exporter is: the `Exporter` interface, its result, and the shared streaming loop.

An export is a stream: items are read one at a time, encoded and written, so memory stays flat
however many pass. Each format is split into the two halves a resumable export needs:

- a `RecordEncoder` turns records into bytes for a *staging* file: a preamble (the CSV header,
  the `[` of a JSON array), one chunk per record, and a trailer added at the very end;
- `Exporter.finish` turns a complete staging file into the destination (append the trailer and
  rename it into place; SQLite loads it into a database instead).

`Exporter.export` runs both halves in one go on a temporary file beside the destination;
`ExportJob` runs them page by page with a checkpoint, so an interrupted export can resume.
Either way the destination is locked for the whole run (`musicagent.export.lock`), and a
destination that is a stream (standard output, a device, a FIFO) is written through instead
(`musicagent.export.destination`).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from musicagent.errors import CheckpointError, InvalidParameterError
from musicagent.export.atomic import (
    discard,
    io_error,
    replace_into_place,
    same_file,
    set_mode,
    staging_file,
)
from musicagent.export.destination import Destination, open_stream, resolve_destination
from musicagent.export.lock import ExportLock
from musicagent.export.records import Item, Record, as_record, iter_records

__all__ = [
    "BeforeReplace",
    "ExportResult",
    "Exporter",
    "Layout",
    "RecordEncoder",
    "Staged",
    "StreamExporter",
    "refuse_if_replaced",
    "stream_result",
    "write_records",
]

#: Decisions an exporter takes from the first records before writing (the CSV columns), as
#: JSON-ready data: a resumed export reads them back from its checkpoint.
Layout = dict[str, Any]
#: Called with the finished, synced file (its handle and name) just before it is renamed over
#: the destination.
BeforeReplace = Callable[[BinaryIO, Path], None]


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        destination: the file written.
        format: `csv`, `json`, `jsonl` or `sqlite`.
        items_written: how many items went in.
        bytes_written: size of the destination file (bytes written, for a stream).
        columns: the CSV header, when there is one.
        pages: pages fetched by a resumable export job (all runs together), else None.
        rows: for SQLite, the distinct rows this run wrote (items with the same key are one
            row); else None.
    """

    destination: Path
    format: str
    items_written: int
    bytes_written: int
    columns: tuple[str, ...] = ()
    pages: int | None = None
    rows: int | None = None


@dataclass(frozen=True, slots=True)
class Staged:
    """A complete staging file and the handle it was written through (kept open: the file is
    finished from this handle, never reopened by name)."""

    path: Path
    handle: BinaryIO


class RecordEncoder(ABC):
    """Bytes of one format: a preamble, one chunk per record, a trailer."""

    def preamble(self) -> bytes:
        """Written once, before the first record (a header row, an opening bracket)."""
        return b""

    @abstractmethod
    def encode(self, record: Item, index: int) -> bytes:
        """The bytes of one record (what the exporter's `prepare` yields: a plain record, or
        for the JSON formats the item itself); `index` counts the records written before it
        (0-based)."""

    def encode_batch(self, records: Sequence[Item], start: int) -> bytes:
        """The bytes of consecutive records, the first of them at index `start`: exactly the
        `encode` of each, joined. A format may do it in fewer steps (JSON Lines does)."""
        encode = self.encode
        return b"".join([encode(record, start + offset) for offset, record in enumerate(records)])

    def trailer(self, count: int) -> bytes:
        """Written once after the last of `count` records (a closing bracket)."""
        return b""


#: Records encoded and written together: one write call a batch rather than one a record
#: (a page of 100 is one batch), while a stream of a million never sits in memory at once.
WRITE_BATCH = 256


def _write_batch(handle: BinaryIO, encoder: RecordEncoder, batch: list[Item], index: int) -> int:
    records = batch[:]
    batch.clear()  # cleared first: a failed write must not be retried with the same records
    handle.write(encoder.encode_batch(records, index))
    return index + len(records)


def write_records(
    handle: BinaryIO, encoder: RecordEncoder, records: Iterable[Item], *, start: int
) -> int:
    """Encode and write records a batch at a time; returns the running count (`start` +
    written). When the records' iterator fails (an item that is no item), the records it gave
    before are written first, as they would have been one by one."""
    index = start
    batch: list[Item] = []
    try:
        for record in records:
            batch.append(record)
            if len(batch) == WRITE_BATCH:
                index = _write_batch(handle, encoder, batch, index)
    finally:
        if batch:
            index = _write_batch(handle, encoder, batch, index)
    return index


def _no_hook(handle: BinaryIO, path: Path) -> None:
    """The default `before_replace`: nothing to record."""


class Exporter(ABC):
    """Writes a stream of items (Pydantic models or dicts) to a file in one format.

    Use `export(items, destination)`; `exporter_for(format, **options)` picks the class. The
    other methods are the building blocks `ExportJob` uses for resumable exports.
    """

    #: The format's name, as given to `exporter_for`.
    format_name: ClassVar[str]
    #: The usual file name ending, e.g. `.csv`.
    file_suffix: ClassVar[str]
    #: Whether the format can be written to a stream (standard output, a pipe).
    streamable: ClassVar[bool] = True
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

    def prepare(self, items: Iterable[object]) -> Iterator[Item]:
        """The items as this format's encoder takes them, checked as they stream past: plain
        records (`validate_data`) unless the format can use the models themselves.

        Raises:
            InvalidParameterError: as `validate_data` does.
        """
        return self.validate_data(items)

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
        self,
        staged: Staged,
        destination: Path,
        *,
        layout: Layout,
        items_written: int,
        private: bool = False,
        before_replace: BeforeReplace = _no_hook,
    ) -> ExportResult:
        """Turn a complete staging file into the destination, atomically, from its open handle.

        `before_replace(handle, path)` is called once the file to be renamed is complete and
        on disk.
        Refuses to finish (`CheckpointError`) when the staging file's name no longer leads to
        the file written. The staging file is renamed into place, or left for the caller to
        remove (SQLite, which loads it into a database instead).
        """

    def check_destination(self, destination: Destination) -> None:
        """Refuse a destination this format cannot write (SQLite to a stream).

        Raises:
            InvalidParameterError: (`destination`) when the format cannot be streamed.
        """
        if destination.stream and not self.streamable:
            raise InvalidParameterError(
                f"the {self.format_name} format needs a file of its own; "
                f"{destination.label} is a stream",
                parameter="destination",
                allowed="a regular file",
                value=str(destination.path),
            )

    def export(
        self,
        items: Iterable[object],
        destination: str | os.PathLike[str] | Destination,
        *,
        private: bool = False,
    ) -> ExportResult:
        """Write every item to `destination`, streaming, through a temporary file that is
        renamed into place at the end: the destination is never half-written. `-`, a device
        or a FIFO is written through instead. `private=True` keeps the file `0600`.

        Raises:
            InvalidParameterError: (`destination`) when the file cannot be created there;
                (`items`) for an item that is neither a Pydantic model nor a dict.
            ExportLockedError: another export is writing the same destination.
            LocalIOError: the file could not be written (disk full, …).
        """
        target = resolve_destination(destination)
        self.check_destination(target)
        records = self.prepare(items)
        sample = list(islice(records, self.sample_size))
        layout = self.plan([as_record(item) for item in sample])
        encoder = self.staging_encoder(layout)
        if target.stream:
            return self._export_to_stream(target, encoder, layout, chain(sample, records))
        path = target.path
        with ExportLock(path), staging_file(path) as (staged_path, handle):
            try:
                handle.write(encoder.preamble())
                count = write_records(handle, encoder, chain(sample, records), start=0)
            except OSError as exc:
                raise io_error(exc, staged_path, "write") from exc
            try:
                result = self.finish(
                    Staged(staged_path, handle),
                    path,
                    layout=layout,
                    items_written=count,
                    private=private,
                )
            finally:
                if same_file(handle, staged_path):
                    discard(staged_path)
        return result

    def _export_to_stream(
        self,
        target: Destination,
        encoder: RecordEncoder,
        layout: Layout,
        records: Iterable[Item],
    ) -> ExportResult:
        with open_stream(target) as handle:
            try:
                handle.write(encoder.preamble())
                count = write_records(handle, encoder, records, start=0)
                handle.write(encoder.trailer(count))
                handle.flush()
            except OSError as exc:
                raise io_error(exc, target.path, "write") from exc
            return stream_result(self, target, handle, layout, count)


def stream_result(
    exporter: Exporter, target: Destination, handle: BinaryIO, layout: Layout, count: int
) -> ExportResult:
    """The result of an export written through to a stream."""
    try:
        written = handle.tell()
    except OSError:  # a pipe or terminal has no position
        written = 0
    return ExportResult(
        destination=target.path,
        format=exporter.format_name,
        items_written=count,
        bytes_written=written,
        columns=tuple(layout.get("columns", ())),
    )


def refuse_if_replaced(staged: Staged) -> None:
    """Refuse to finish when the staging file's name no longer leads to the file written
    (removed, or replaced by something else): renaming it would publish the wrong file.

    Raises:
        CheckpointError: naming the staging file.
    """
    if not same_file(staged.handle, staged.path):
        raise CheckpointError(
            f"partial output {str(staged.path)!r} was removed or replaced while the export "
            "ran; refusing to finish from it",
            path=staged.path,
        )


class StreamExporter(Exporter):
    """A format written as one byte stream (CSV, JSON, JSON Lines): the staging file is the
    final file minus its trailer."""

    def finish(
        self,
        staged: Staged,
        destination: Path,
        *,
        layout: Layout,
        items_written: int,
        private: bool = False,
        before_replace: BeforeReplace = _no_hook,
    ) -> ExportResult:
        """Append the trailer through the open handle, sync, and rename over the destination."""
        handle = staged.handle
        refuse_if_replaced(staged)
        try:
            handle.seek(0, os.SEEK_END)
            handle.write(self.staging_encoder(layout).trailer(items_written))
            handle.flush()
            set_mode(handle, private=private)
            os.fsync(handle.fileno())
            size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            raise io_error(exc, staged.path, "write") from exc
        before_replace(handle, staged.path)
        refuse_if_replaced(staged)
        try:
            replace_into_place(staged.path, destination)
        except OSError as exc:
            raise io_error(exc, destination, "rename the finished file onto") from exc
        return ExportResult(
            destination=destination,
            format=self.format_name,
            items_written=items_written,
            bytes_written=size,
            columns=tuple(layout.get("columns", ())),
        )
