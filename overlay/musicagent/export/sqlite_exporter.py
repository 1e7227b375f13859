"""SQLite export: one table per export kind, one row per item, upserted by the item's id.

Each item becomes one row of the table given (`table="collection"`), keyed by its id — the
`instance_id` of a collection item (one release can be in a collection twice), `id` otherwise,
or the `key` you name. Re-running an export into the same file **updates** rows that are
already there and adds new ones; nothing is duplicated. A row always reflects the latest run:
columns an item no longer has are set to NULL.

Columns: the flattened scalar columns of the CSV rule (`basic_information.title`,
`basic_information.genres`, `notes.Media`, …, typed as integers, reals or text), plus, for every
top-level field holding an object or a list, that value as JSON text in `<field>_json`
(`basic_information_json`, `notes_json`), so the full item can be rebuilt and queried with
SQLite's JSON functions. Columns are added as new fields appear, in order of first appearance
(after the model's declared columns when `item_model` is given).

Atomicity: the export is built in a temporary copy of the database beside the destination (the
existing file, if any, copied with SQLite's backup API), in one transaction, and renamed over
the destination at the end. Readers of the old file never see partial data; a failed export
leaves it untouched. Do not export into a database another program holds open for writing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from musicagent.errors import InvalidParameterError
from musicagent.export.atomic import (
    checked_destination,
    discard,
    replace_into_place,
    temporary_path_beside,
)
from musicagent.export.base import Exporter, ExportResult, Layout, RecordEncoder
from musicagent.export.flatten import JSON_SUFFIX, FieldNames, Flattener, Scalar, add_column
from musicagent.export.records import Record, dump_json

__all__ = ["DEFAULT_TABLE", "SqliteExporter", "quote_identifier", "read_rows"]

#: Table written when none is named.
DEFAULT_TABLE = "items"
_INT64 = (-(2**63), 2**63 - 1)


def quote_identifier(name: str) -> str:
    """An SQLite identifier in double quotes (dots and spaces in column names are kept)."""
    return '"' + name.replace('"', '""') + '"'


def _fold(name: str) -> str:
    # SQLite compares identifiers case-insensitively for ASCII letters only.
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in name)


def _sql_value(value: Scalar) -> Scalar:
    if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        return str(value)  # SQLite integers are 64-bit; keep huge ids exactly, as text
    return value


def _key_value(value: Scalar) -> Scalar:
    # Ids arrive as numbers or strings; "123" and 123 must be the same row.
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return _sql_value(value)


class _JsonLinesStaging(RecordEncoder):
    """A resumable SQLite export stages its records as JSON Lines, loaded at the end."""

    def encode(self, record: Record, index: int) -> bytes:
        return (dump_json(record) + "\n").encode("utf-8")


def _read_staged(path: Path) -> Iterator[Record]:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                record: Record = json.loads(line)
                yield record


class _Table:
    """The target table of one export run: its columns, key, and the upsert statement."""

    def __init__(self, connection: sqlite3.Connection, name: str) -> None:
        self.connection = connection
        self.name = name
        self.sql_name = quote_identifier(name)
        self.columns: list[str] = []
        self.by_fold: dict[str, str] = {}
        self.column_of: dict[str, str] = {}
        self.key: str | None = None
        self._upsert: str | None = None
        for _, column, _, _, _, pk in connection.execute(f"PRAGMA table_info({self.sql_name})"):
            self._known(column)
            if pk == 1:
                self.key = column

    def _known(self, column: str) -> None:
        self.columns.append(column)
        self.by_fold[_fold(column)] = column
        self._upsert = None

    def create(self, key: str) -> None:
        self.connection.execute(
            f"CREATE TABLE {self.sql_name} ({quote_identifier(key)} INT PRIMARY KEY NOT NULL)"
        )
        self.key = key
        self._known(key)

    def column(self, flat_name: str) -> str:
        """The table column holding a flattened column, added to the table on first sight."""
        found = self.column_of.get(flat_name)
        if found is not None:
            return found
        candidate, number = flat_name, 1
        while True:
            existing = self.by_fold.get(_fold(candidate))
            if existing is None:
                self.connection.execute(
                    f"ALTER TABLE {self.sql_name} ADD COLUMN {quote_identifier(candidate)}"
                )
                self._known(candidate)
                break
            if existing == candidate:
                break
            # Same name but another letter case: SQLite would see one column; keep both values.
            number += 1
            candidate = f"{flat_name}#{number}"
        self.column_of[flat_name] = candidate
        return candidate

    def upsert(self, values: Mapping[str, Scalar]) -> None:
        if self._upsert is None:
            assert self.key is not None
            names = ", ".join(quote_identifier(column) for column in self.columns)
            marks = ", ".join("?" for _ in self.columns)
            updates = ", ".join(
                f"{quote_identifier(column)} = excluded.{quote_identifier(column)}"
                for column in self.columns
                if column != self.key
            )
            action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
            self._upsert = (
                f"INSERT INTO {self.sql_name} ({names}) VALUES ({marks}) "
                f"ON CONFLICT({quote_identifier(self.key)}) {action}"
            )
        self.connection.execute(self._upsert, [values.get(column) for column in self.columns])


class SqliteExporter(Exporter):
    """Export items into an SQLite table, upserting by id, so a re-run updates the file.

    Args:
        table: the table to write (one per export kind, e.g. `collection`, `wantlist`).
        key: the column that identifies an item (the primary key); default `instance_id` when
            the first item has one (collection items), else `id`; an existing table keeps its key.
        item_model: the Pydantic model of the items; its declared columns are created first.
        field_names: `{field_id: name}` of custom collection fields, for `notes.<name>` columns.
    """

    format_name = "sqlite"
    file_suffix = ".sqlite"

    def __init__(
        self,
        *,
        table: str = DEFAULT_TABLE,
        key: str | None = None,
        item_model: type[BaseModel] | None = None,
        field_names: FieldNames | None = None,
    ) -> None:
        if not isinstance(table, str) or not table.strip() or table.lower().startswith("sqlite_"):
            raise InvalidParameterError(
                parameter="table",
                allowed="a non-empty table name not starting with 'sqlite_'",
                value=table,
            )
        if key is not None and (not isinstance(key, str) or not key):
            raise InvalidParameterError(parameter="key", allowed="a column name", value=key)
        self.table = table
        self.key = key
        self.item_model = item_model
        self.flattener = Flattener(field_names)

    def options(self) -> dict[str, Any]:
        """Table, key, model and custom-field names."""
        model = self.item_model
        return {
            "table": self.table,
            "key": self.key,
            "item_model": f"{model.__module__}.{model.__qualname__}" if model else None,
            "field_names": self.flattener.field_names,
        }

    def row_of(self, record: Record) -> dict[str, Scalar]:
        """One record as the row written: flattened columns plus `<field>_json` columns."""
        row = self.flattener(record)
        for field, value in record.items():
            if isinstance(value, Mapping | list | tuple):
                name, text = f"{field}{JSON_SUFFIX}", dump_json(value)
                if row.get(name) != text:
                    add_column(row, name, text)
        return row

    def staging_encoder(self, layout: Layout) -> RecordEncoder:
        """Resumable exports stage records as JSON Lines; `finish` loads them."""
        return _JsonLinesStaging()

    def finish(
        self, staged: Path, destination: Path, *, layout: Layout, items_written: int
    ) -> ExportResult:
        """Load the staged JSON Lines into the database (atomically), then remove them."""
        result = self.export(_read_staged(staged), destination)
        discard(staged)
        return result

    def export(self, items: Iterable[object], destination: str | os.PathLike[str]) -> ExportResult:
        """Upsert every item into the table in a temporary copy of `destination`, then rename
        the copy over it.

        Raises:
            InvalidParameterError: (`destination`) when it is not an SQLite database or cannot be
                written; (`key`) when an item lacks its key or the table has another key;
                (`items`) for an item that is neither a Pydantic model nor a dict.
        """
        path = checked_destination(destination)
        records = self.validate_data(items)
        staged = temporary_path_beside(path)
        try:
            with contextlib.closing(self._open_copy(path, staged)) as connection:
                count = self._write(connection, records)
            with staged.open("rb+") as handle:
                os.fsync(handle.fileno())
            replace_into_place(staged, path)
        except BaseException:
            discard(staged)
            discard(staged.with_name(staged.name + "-journal"))
            raise
        return ExportResult(
            destination=path,
            format=self.format_name,
            items_written=count,
            bytes_written=path.stat().st_size,
        )

    def _open_copy(self, destination: Path, staged: Path) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(staged, isolation_level=None)
        except sqlite3.Error as exc:
            raise _destination_error(destination, exc) from exc
        if destination.exists():
            try:
                with contextlib.closing(sqlite3.connect(destination)) as source:
                    source.backup(connection)
            except sqlite3.Error as exc:
                connection.close()
                raise _destination_error(destination, exc) from exc
        return connection

    def _write(self, connection: sqlite3.Connection, records: Iterator[Record]) -> int:
        connection.execute("BEGIN")
        table = _Table(connection, self.table)
        count = 0
        for count, record in enumerate(records, start=1):
            row = self.row_of(record)
            if table.key is None and table.columns:
                raise InvalidParameterError(
                    f"table {self.table!r} exists without a primary key; name another table",
                    parameter="table",
                    value=self.table,
                )
            if table.key is None:
                table.create(self._key_for(row))
                if self.item_model is not None:
                    for column in self.flattener.schema_columns(self.item_model):
                        table.column(column)
            elif self.key is not None and table.key != self.key:
                raise InvalidParameterError(
                    f"table {self.table!r} is keyed by {table.key!r}, not {self.key!r}; "
                    "use that key or another table",
                    parameter="key",
                    allowed=[table.key],
                    value=self.key,
                )
            values = self._values(table, row, count)
            table.upsert(values)
        connection.execute("COMMIT")
        return count

    def _key_for(self, row: Mapping[str, Scalar]) -> str:
        if self.key is not None:
            return self.key
        return "instance_id" if row.get("instance_id") is not None else "id"

    def _values(self, table: _Table, row: Mapping[str, Scalar], count: int) -> dict[str, Scalar]:
        assert table.key is not None
        values = {table.column(name): _sql_value(value) for name, value in row.items()}
        key_value = values.get(table.key)
        if key_value is None or key_value == "":
            raise InvalidParameterError(
                f"item {count - 1} has no {table.key!r} to use as the primary key; "
                "pass key= naming a field every item has",
                parameter="key",
                value=table.key,
            )
        values[table.key] = _key_value(key_value)
        return values


def _destination_error(destination: Path, exc: sqlite3.Error) -> InvalidParameterError:
    return InvalidParameterError(
        f"cannot write SQLite database {str(destination)!r}: {exc}",
        parameter="destination",
        value=str(destination),
    )


def read_rows(database: str | os.PathLike[str], table: str) -> list[dict[str, Any]]:
    """All rows of one table as dicts (a convenience for checking an export)."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.row_factory = sqlite3.Row
        rows: Sequence[sqlite3.Row] = connection.execute(
            f"SELECT * FROM {quote_identifier(table)}"
        ).fetchall()
        return [dict(row) for row in rows]
