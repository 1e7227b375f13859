"""CSV export: one row per item, nested data flattened into named columns.

Cells follow the flattening rule of `musicagent.export.flatten` (dotted columns for nested
objects, `; `-joined lists, readable artist credits plus a `<field>_json` column, one column per
custom collection field). Files are UTF-8 with `\\n` line ends; `excel=True` adds a byte-order
mark and `\\r\\n` line ends so Excel opens accents and line breaks correctly. Values holding
commas, quotes or line breaks are quoted and read back unchanged by any CSV reader.

**How the header is chosen.** CSV is streamed, so the header must be fixed before all rows are
seen. It is decided once, at the start, and never changes during the export:

1. the columns the item model declares in the spec (`item_model.model_json_schema()`, e.g.
   `CollectionItem` for collection exports), in declaration order, with one `notes.<name>`
   column per custom field when `field_names` is given — so the same kind of export always has
   the same leading columns, whatever the data;
2. then any further column found in the first `sample_size` items (one page, 100, by default),
   in order of first appearance — fields the spec does not know yet, `notes.<id>` columns;
3. then `extra_json`, always last: a later row with a column outside the header (a field first
   seen on page 7) puts those values there, as a JSON object `{column: value}`, so nothing is
   dropped and no row ever shifts under the header.

**Formulas are neutralised** (on by default; `formula_guard=False` for machine consumers).
Discogs text is whatever somebody typed, and a spreadsheet runs a cell that starts like a
formula. Following the OWASP rule for CSV injection, a cell — header cells included — whose
first character, after any leading spaces, is `=`, `+`, `-`, `@`, a tab, a carriage return or
a line feed (or the full-width `＝ ＋ － ＠`) gets a single quote `'` in front, unless the
whole cell is a plain number such as `-12.5` or `+1e3`, which no spreadsheet reads as a formula.
Spreadsheets show the quote-prefixed text as it was typed; a program reading the CSV sees the
leading `'`.

Passing `columns=[…]` fixes the header explicitly (steps 1–2 are skipped; `extra_json` is still
added). A resumable export stores the header in its checkpoint and reuses it when it resumes.
Only the sample (at most `sample_size` items) is held in memory, never the whole export.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from itertools import repeat
from typing import Any

from pydantic import BaseModel

from musicagent.errors import InvalidParameterError
from musicagent.export.base import Layout, RecordEncoder, StreamExporter
from musicagent.export.flatten import FieldNames, Flattener, Scalar, cell_text
from musicagent.export.records import Item, Record, as_record, dump_json

__all__ = ["EXTRA_COLUMN", "FORMULA_LEADS", "CsvExporter", "neutralise_formula"]

#: The last column of every CSV export: values of columns outside the header, as JSON.
EXTRA_COLUMN = "extra_json"
#: Items looked at to choose the header: one page of the Discogs API.
DEFAULT_SAMPLE_SIZE = 100

_BOM = "\ufeff".encode()
#: What a spreadsheet takes as the start of a formula (OWASP), plus full-width look-alikes.
FORMULA_LEADS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


#: First characters after which a cell needs a closer look: the formula leads and the space
#: that may come before them. Any other first character (most cells) leaves the cell as it is.
_LOOK_CLOSER = FORMULA_LEADS | {" "}
_NO_LOOK: frozenset[str] = frozenset()
_QUOTE, _TWO_QUOTES = '"', '""'


def neutralise_formula(cell: str) -> str:
    """`cell` with a `'` in front when a spreadsheet would read it as a formula (see the
    module documentation for the exact rule); any other cell unchanged."""
    if not cell or cell[0] not in _LOOK_CLOSER:
        return cell
    lead = cell.lstrip(" ")[:1]
    if lead and lead in FORMULA_LEADS and not _PLAIN_NUMBER.fullmatch(cell.strip(" ")):
        return "'" + cell
    return cell


class _CsvEncoder(RecordEncoder):
    def __init__(
        self, columns: Sequence[str], flattener: Flattener, *, excel: bool, formula_guard: bool
    ) -> None:
        self.header = list(columns)
        self.formula_guard = formula_guard
        self.data_columns = [column for column in columns if column != EXTRA_COLUMN]
        self.flattener = flattener
        self.excel = excel
        self.buffer = io.StringIO()
        # The writer always ends rows with \r\n: the csv module quotes a field only when it
        # holds characters of *its* line terminator, so with "\n" a lone "\r" would go unquoted
        # and split the row on reading. LF files swap the terminator afterwards.
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")
        self.line_end = "\r\n" if excel else "\n"

    def preamble(self) -> bytes:
        return (_BOM if self.excel else b"") + self._row(self.header)

    def encode(self, record: Item, index: int) -> bytes:
        return self._row(self._cells(record))

    def _cells(self, record: Item) -> list[Scalar]:
        row = self.flattener(as_record(record))
        cells = list(map(row.pop, self.data_columns, repeat(None)))
        cells.append(_extra_cell(row))
        return cells

    def encode_batch(self, records: Sequence[Item], start: int) -> bytes:
        """Exactly the `encode` of each record, joined, in fewer steps: each row is made in one
        pass over its cells, quoted as the csv writer quotes (see `_quoted`).

        Anything out of the ordinary (an error, a cell that is a `str` subclass, a row of one
        cell) goes the way `encode` goes, so the bytes, and any error raised, are the same.
        """
        if not _QUOTING_AS_CSV or not self.data_columns:
            return b"".join([self.encode(record, start + n) for n, record in enumerate(records)])
        try:
            lines = [self._line_of(record) for record in records]
            if None not in lines:
                return "".join(lines).encode("utf-8")  # type: ignore[arg-type]
        except Exception:
            pass  # the record-by-record path below raises it again, for the same record
        # Record by record, so that an error is the one the first failing record gives.
        return b"".join([self.encode(record, start + n) for n, record in enumerate(records)])

    def _line_of(self, record: Item) -> str | None:
        """One row as `encode` writes it, or None when a cell is not plain text (a `str`
        subclass from `cell_text`: only the csv writer knows how it takes it)."""
        row = self.flattener(record if type(record) is dict else as_record(record))
        look = _LOOK_CLOSER if self.formula_guard else _NO_LOOK
        cells: list[str] = []
        for value in map(row.pop, self.data_columns, repeat(None)):
            if type(value) is str:
                if value:
                    if value[0] in look:
                        value = neutralise_formula(value)
                    # `_quoted`, spelled out: this runs for every cell.
                    if '"' in value:
                        value = f'"{value.replace(_QUOTE, _TWO_QUOTES)}"'
                    elif "," in value or "\n" in value or "\r" in value:
                        value = f'"{value}"'
            elif value is None:
                value = ""
            elif type(value) is int:
                # Digits after an optional minus: a plain number, which the guard leaves
                # alone, and nothing the writer quotes.
                value = f"{value}"  # int.__repr__, without looking the method up
            else:
                value = cell_text(value)
                if type(value) is not str:
                    return None
                if value[:1] in look:
                    value = neutralise_formula(value)
                value = _quoted(value)
            cells.append(value)
        # JSON of an object, `{…}`, or nothing: never a formula lead, and quoted when there.
        cells.append(_quoted(_extra_cell(row)) if row else "")
        return ",".join(cells) + self.line_end

    def _guarded(self, values: Sequence[Any]) -> list[str]:
        """Row values as the cell texts `encode` writes: `cell_text`, then the formula guard."""
        # Text (most cells) is its own cell: only other values go through cell_text.
        cells = [value if type(value) is str else cell_text(value) for value in values]
        if self.formula_guard:
            look = _LOOK_CLOSER  # most cells start with a letter or digit: no call for them
            cells = [cell if cell[:1] not in look else neutralise_formula(cell) for cell in cells]
        return cells

    def _row(self, cells: Sequence[Scalar]) -> bytes:
        return self._line(self._guarded(cells))

    def _line(self, cells: Sequence[Any]) -> bytes:
        """One row as written: the writer's own line end, or `\\n` outside Excel mode."""
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(cells)
        text = self.buffer.getvalue()
        if not self.excel:
            text = text[:-2] + "\n"
        return text.encode("utf-8")


def _extra_cell(row: dict[str, Any]) -> str:
    """The `extra_json` cell: what is left of a row once the header's columns are taken."""
    extra = {column: value for column, value in row.items() if value is not None and value != ""}
    return dump_json(extra) if extra else ""


def _quoted(cell: str) -> str:
    """A cell as the csv writer writes it (the default dialect, `\\r\\n` line ends): quoted
    when it holds a comma, a double quote or a line break, its double quotes doubled."""
    if '"' in cell:
        return f'"{cell.replace(_QUOTE, _TWO_QUOTES)}"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return f'"{cell}"'
    return cell


def _quoting_as_csv() -> bool:
    """Whether `_quoted` writes these cells exactly as this Python's csv module does (checked
    once: should a later csv module quote otherwise, every row goes through the writer)."""
    probe = [
        *("", " ", "a", "a b", " a ", ",", '"', '""', "\r", "\n", "\r\n", "a,b", 'a"b', "\t", "'"),
        *("\x00", "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", "=1", "é", "\ufeff", "\\", "-1"),
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(probe)
    return buffer.getvalue() == ",".join(map(_quoted, probe)) + "\r\n"


#: Checked once at import: rows are made without the csv writer only when it quotes the same.
_QUOTING_AS_CSV = _quoting_as_csv()


class CsvExporter(StreamExporter):
    """Export items as CSV, streaming, with nested data flattened into columns.

    Args:
        excel: write for Excel: a UTF-8 byte-order mark and `\\r\\n` line ends.
        columns: the exact header (`extra_json` is appended); default: chosen as described in
            the module documentation.
        item_model: the Pydantic model of the items (e.g. `discogs_models.CollectionItem`);
            its declared fields give the leading, stable columns.
        field_names: `{field_id: name}` of custom collection fields (see `custom_field_names`),
            so notes become `notes.Media` rather than `notes.1`.
        sample_size: how many leading items may add columns to the header (default 100).
        formula_guard: prefix cells a spreadsheet would run as formulas with `'` (default
            True; see the module documentation). False writes every cell as it is.
    """

    format_name = "csv"
    file_suffix = ".csv"

    def __init__(
        self,
        *,
        excel: bool = False,
        columns: Sequence[str] | None = None,
        item_model: type[BaseModel] | None = None,
        field_names: FieldNames | None = None,
        sample_size: int = DEFAULT_SAMPLE_SIZE,
        formula_guard: bool = True,
    ) -> None:
        if isinstance(columns, str):
            raise InvalidParameterError(
                "columns must be a list of column names, not one string",
                parameter="columns",
                value=columns,
            )
        if sample_size < 0:
            raise InvalidParameterError(
                parameter="sample_size", allowed="0 or more", value=sample_size
            )
        self.excel = excel
        self.formula_guard = formula_guard
        self.columns = list(dict.fromkeys(columns)) if columns is not None else None
        self.item_model = item_model
        self.flattener = Flattener(field_names)
        self.sample_size = 0 if columns is not None else sample_size

    def options(self) -> dict[str, Any]:
        """Everything that shapes the file: Excel mode, columns, model, field names, sample."""
        model = self.item_model
        return {
            "excel": self.excel,
            "columns": self.columns,
            "item_model": f"{model.__module__}.{model.__qualname__}" if model else None,
            "field_names": self.flattener.field_names,
            "sample_size": self.sample_size,
            "formula_guard": self.formula_guard,
        }

    def plan(self, sample: Sequence[Record]) -> Layout:
        """Choose the header: declared columns, then new ones from the sample, then `extra_json`."""
        if self.columns is not None:
            columns = [column for column in self.columns if column != EXTRA_COLUMN]
        else:
            columns = self.flattener.schema_columns(self.item_model) if self.item_model else []
            known = set(columns)
            for record in sample:
                for column in self.flattener(record):
                    if column not in known and column != EXTRA_COLUMN:
                        known.add(column)
                        columns.append(column)
        return {"columns": [*columns, EXTRA_COLUMN]}

    def staging_encoder(self, layout: Layout) -> RecordEncoder:
        """The CSV encoder for a header chosen by `plan` (or read back from a checkpoint)."""
        return _CsvEncoder(
            layout["columns"], self.flattener, excel=self.excel, formula_guard=self.formula_guard
        )
