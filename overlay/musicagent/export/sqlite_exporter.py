"""SQLite export: one table per export kind, one row per item, upserted by what identifies it.

Each item becomes one row of the table given (`table="collection"`), keyed by its id — the
`instance_id` of a collection item (one release can be in a collection twice), `id` otherwise,
or the `key` you name: one column, or several for a composite key (`key=("type", "id",
"role")` for an artist's releases, where one release is listed once per role). A missing part
of a composite key is stored as the empty string, so it still tells rows apart. Re-running an
export into the same file **updates** rows that are already there and adds new ones; nothing is
duplicated. A row always reflects the latest run: columns an item no longer has are set to
NULL. The result counts the distinct rows written (`ExportResult.rows`): items that share a key
are one row.

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
The temporary copy is created `0600`; a public export gets the usual file mode (`0666` less the
umask) just before the rename, a private one stays `0600`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel

from musicagent.errors import InvalidParameterError, LocalIOError
from musicagent.export.atomic import (
    discard,
    io_error,
    open_new,
    replace_into_place,
    same_file,
    set_mode,
    temporary_path_beside,
)
from musicagent.export.base import (
    BeforeReplace,
    Exporter,
    ExportResult,
    Layout,
    RecordEncoder,
    Staged,
    refuse_if_replaced,
)
from musicagent.export.destination import Destination, resolve_destination
from musicagent.export.flatten import JSON_SUFFIX, FieldNames, Flattener, Scalar, add_column
from musicagent.export.lock import ExportLock
from musicagent.export.records import Item, Record, dump_json, json_bytes

__all__ = ["DEFAULT_TABLE", "KIND_KEYS", "SqliteExporter", "quote_identifier", "read_rows"]

#: Table written when none is named.
DEFAULT_TABLE = "items"
#: What identifies one row of each export kind. An artist lists one release once per role
#: (main, remix, track appearance); a search mixes releases, masters, artists and labels whose
#: ids overlap; a label lists a release once per catalogue number; one release can be in a
#: collection twice (two copies), so collections are keyed by the instance.
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "collection": ("instance_id",),
    "wantlist": ("id",),
    "inventory": ("id",),
    "orders": ("id",),
    "search": ("type", "id"),
    "artist-releases": ("type", "id", "role"),
    "label-releases": ("id", "catno"),
}
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

    def encode(self, record: Item, index: int) -> bytes:
        return json_bytes(record) + b"\n"


def _read_staged(handle: BinaryIO) -> Iterator[Record]:
    handle.seek(0)
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
        self.key: tuple[str, ...] | None = None
        self._upsert: str | None = None
        parts: dict[int, str] = {}
        for _, column, _, _, _, pk in connection.execute(f"PRAGMA table_info({self.sql_name})"):
            self._known(column)
            if pk:
                parts[pk] = column
        if parts:
            self.key = tuple(parts[n] for n in sorted(parts))

    def _known(self, column: str) -> None:
        self.columns.append(column)
        self.by_fold[_fold(column)] = column
        self._upsert = None

    def create(self, key: tuple[str, ...]) -> None:
        if len(key) == 1:
            columns = f"{quote_identifier(key[0])} INT PRIMARY KEY NOT NULL"
        else:
            names = [quote_identifier(part) for part in key]
            columns = ", ".join(f"{name} NOT NULL" for name in names)
            columns += f", PRIMARY KEY ({', '.join(names)})"
        self.connection.execute(f"CREATE TABLE {self.sql_name} ({columns})")
        self.key = key
        for part in key:
            self._known(part)

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
                if column not in self.key
            )
            action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
            conflict = ", ".join(quote_identifier(part) for part in self.key)
            self._upsert = (
                f"INSERT INTO {self.sql_name} ({names}) VALUES ({marks}) "
                f"ON CONFLICT({conflict}) {action}"
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
    streamable = False

    def __init__(
        self,
        *,
        table: str = DEFAULT_TABLE,
        key: str | Sequence[str] | None = None,
        item_model: type[BaseModel] | None = None,
        field_names: FieldNames | None = None,
    ) -> None:
        if not isinstance(table, str) or not table.strip() or table.lower().startswith("sqlite_"):
            raise InvalidParameterError(
                parameter="table",
                allowed="a non-empty table name not starting with 'sqlite_'",
                value=table,
            )
        parts = (key,) if isinstance(key, str) else tuple(key) if key is not None else None
        if parts is not None and (
            not parts or not all(isinstance(part, str) and part for part in parts)
        ):
            raise InvalidParameterError(
                parameter="key", allowed="a column name, or a list of them", value=key
            )
        self.table = table
        self.key: tuple[str, ...] | None = tuple(dict.fromkeys(parts)) if parts else None
        self.item_model = item_model
        self.flattener = Flattener(field_names)

    def options(self) -> dict[str, Any]:
        """Table, key, model and custom-field names."""
        model = self.item_model
        return {
            "table": self.table,
            "key": self.key[0] if self.key and len(self.key) == 1 else self.key,
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
        self,
        staged: Staged,
        destination: Path,
        *,
        layout: Layout,
        items_written: int,
        private: bool = False,
        before_replace: BeforeReplace | None = None,
    ) -> ExportResult:
        """Load the staged JSON Lines, read from their open handle, into the database
        (atomically); the staging file is left for the caller to remove."""
        refuse_if_replaced(staged)
        return self._build(
            _read_staged(staged.handle), destination, private=private, before_replace=before_replace
        )

    def export(
        self,
        items: Iterable[object],
        destination: str | os.PathLike[str] | Destination,
        *,
        private: bool = False,
    ) -> ExportResult:
        """Upsert every item into the table in a temporary copy of `destination`, then rename
        the copy over it. `private=True` keeps the file `0600`.

        Raises:
            InvalidParameterError: (`destination`) when it is not an SQLite database, cannot be
                written or is a stream; (`key`) when an item lacks its key or the table has
                another key; (`items`) for an item that is neither a Pydantic model nor a dict.
            ExportLockedError: another export is writing the same destination.
            LocalIOError: the database could not be written (disk full, …).
        """
        target = resolve_destination(destination)
        self.check_destination(target)
        records = self.validate_data(items)
        with ExportLock(target.path):
            return self._build(records, target.path, private=private, before_replace=None)

    def _build(
        self,
        records: Iterator[Record],
        path: Path,
        *,
        private: bool,
        before_replace: BeforeReplace | None,
    ) -> ExportResult:
        staged = temporary_path_beside(path)
        handle = open_new(staged)  # 0600 from the first byte; SQLite's journal copies the mode
        try:
            with contextlib.closing(self._open_copy(path, staged)) as connection:
                count, rows = self._write(connection, records, staged)
            try:
                set_mode(handle, private=private)
                os.fsync(handle.fileno())
                size = os.fstat(handle.fileno()).st_size
            except OSError as exc:
                raise io_error(exc, staged, "write") from exc
            if before_replace is not None:
                before_replace(handle, staged)
            if not same_file(handle, staged):
                raise io_error(FileNotFoundError(2, "removed while writing"), staged, "finish")
            try:
                replace_into_place(staged, path)
            except OSError as exc:
                raise io_error(exc, path, "rename the finished database onto") from exc
        except BaseException:
            if same_file(handle, staged):
                discard(staged)
            discard(staged.with_name(staged.name + "-journal"))
            raise
        finally:
            handle.close()
        return ExportResult(
            destination=path,
            format=self.format_name,
            items_written=count,
            bytes_written=size,
            rows=rows,
        )

    def _open_copy(self, destination: Path, staged: Path) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(staged, isolation_level=None)
        except sqlite3.Error as exc:
            raise _destination_error(destination, exc) from exc
        if destination.is_symlink():
            connection.close()
            raise InvalidParameterError(
                f"destination {str(destination)!r} is a symbolic link; give the target's own path",
                parameter="destination",
                value=str(destination),
            )
        if destination.exists():
            try:
                with contextlib.closing(sqlite3.connect(destination)) as source:
                    source.backup(connection)
            except sqlite3.Error as exc:
                connection.close()
                raise _destination_error(destination, exc) from exc
        return connection

    def _write(
        self, connection: sqlite3.Connection, records: Iterator[Record], path: Path
    ) -> tuple[int, int]:
        try:
            connection.execute("BEGIN")
            table = _Table(connection, self.table)
            count, keys = 0, set[tuple[Scalar, ...]]()
            for count, record in enumerate(records, start=1):
                keys.add(self._write_one(table, record, count))
            connection.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            # Disk full, read-only folder, I/O error: the file, not the data, is the problem.
            raise LocalIOError(
                f"cannot write SQLite database {str(path)!r}: {exc}", path=path
            ) from exc
        return count, len(keys)

    def _write_one(self, table: _Table, record: Record, count: int) -> tuple[Scalar, ...]:
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
                f"table {self.table!r} is keyed by {', '.join(table.key)}, not "
                f"{', '.join(self.key)}; export to a new file or another table",
                parameter="key",
                allowed=list(table.key),
                value=", ".join(self.key),
            )
        values = self._values(table, row, count)
        table.upsert(values)
        assert table.key is not None
        return tuple(values[part] for part in table.key)

    def _key_for(self, row: Mapping[str, Scalar]) -> tuple[str, ...]:
        if self.key is not None:
            return self.key
        return ("instance_id",) if row.get("instance_id") is not None else ("id",)

    def _values(self, table: _Table, row: Mapping[str, Scalar], count: int) -> dict[str, Scalar]:
        assert table.key is not None
        values = {table.column(name): _sql_value(value) for name, value in row.items()}
        first, *rest = table.key
        key_value = values.get(first)
        if key_value is None or key_value == "":
            raise InvalidParameterError(
                f"item {count - 1} has no {first!r} to use as the primary key; "
                "pass key= naming a field every item has",
                parameter="key",
                value=first,
            )
        values[first] = _key_value(key_value)
        for part in rest:
            value = values.get(part)
            values[part] = "" if value is None else _key_value(value)
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
