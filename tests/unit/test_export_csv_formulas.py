"""CSV cells that a spreadsheet would run as formulas are neutralised (the OWASP rule), in the
header too; `formula_guard=False` writes them as they are; the other formats stay faithful."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicagent.export import CsvExporter, exporter_for, neutralise_formula
from musicagent.export.csv_exporter import FORMULA_LEADS

PAYLOADS = [
    '=HYPERLINK("https://evil.example","Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "  =1+1",
    "\uff1d1+1",
]


def _starts_a_formula(cell: str) -> bool:
    """Whether a spreadsheet could take the cell for a formula: its first character after
    spaces is a formula lead, and it is not simply a number."""
    lead = cell.lstrip(" ")[:1]
    if not lead or lead not in FORMULA_LEADS:
        return False
    try:
        float(cell.strip(" "))
    except ValueError:
        return True
    return cell.strip(" ").lower() in {"+inf", "-inf", "+nan", "-nan", "-infinity", "+infinity"}


def _read(path: Path, *, excel: bool = False) -> list[list[str]]:
    with path.open(encoding="utf-8-sig" if excel else "utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_in_cells_and_headers_are_prefixed(tmp_path: Path, payload: str) -> None:
    item = {"id": 1, "title": payload, payload: "header payload", "tracks": [{"title": payload}]}

    CsvExporter(excel=True).export([item], tmp_path / "out.csv")

    rows = _read(tmp_path / "out.csv", excel=True)
    cells = [cell for row in rows for cell in row]
    assert "'" + payload in rows[0]  # the header cell
    assert "'" + payload in rows[1]  # the title cell
    assert not any(_starts_a_formula(cell) for cell in cells)


def test_plain_numbers_are_left_alone() -> None:
    for number in ("-12.5", "+1", "-0", "-1e5", "  -3  "):
        assert neutralise_formula(number) == number
    assert neutralise_formula("-1-1") == "'-1-1"
    assert neutralise_formula("safe =1+1") == "safe =1+1"


def test_the_guard_can_be_turned_off_for_machine_consumers(tmp_path: Path) -> None:
    exporter_for("csv", formula_guard=False).export([{"id": 1, "t": "=1+1"}], tmp_path / "o.csv")

    assert _read(tmp_path / "o.csv")[1][1] == "=1+1"


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_formats_stay_byte_faithful(tmp_path: Path, fmt: str) -> None:
    exporter_for(fmt).export([{"id": 1, "t": "=1+1"}], tmp_path / "o")

    text = (tmp_path / "o").read_text(encoding="utf-8")
    loaded = json.loads(text) if fmt == "json" else [json.loads(text)]
    assert loaded == [{"id": 1, "t": "=1+1"}]


_LEADING = st.sampled_from([*sorted(FORMULA_LEADS), " ", "'", "a", "1", "-1"])
_CELL = st.builds(lambda lead, rest: lead + rest, _LEADING, st.text(max_size=12))
_VALUE: Any = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | _CELL,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_CELL, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(st.dictionaries(_CELL, _VALUE, min_size=1, max_size=5), min_size=1, max_size=5),
    st.booleans(),
)
def test_no_exported_csv_cell_can_start_a_formula(items: list[dict[str, Any]], excel: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.csv"
        CsvExporter(excel=excel, sample_size=2).export(items, path)
        text = path.read_bytes().decode("utf-8-sig")

    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            assert not _starts_a_formula(cell), cell
