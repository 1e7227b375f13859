"""What each export format writes (JSON, JSON Lines, CSV), Excel mode, streaming, choosing a
format by name, and the errors for bad formats, options, items and destinations."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from discogs_models import CollectionItem
from discogs_spec import load_example

from musicagent.errors import InvalidParameterError
from musicagent.export import (
    EXTRA_COLUMN,
    FORMATS,
    CsvExporter,
    Exporter,
    JsonExporter,
    JsonLinesExporter,
    SqliteExporter,
    exporter_for,
)
from musicagent.export import sqlite_exporter as sqlite_module
from musicagent.export.base import WRITE_BATCH, write_records

ITEMS: list[dict[str, Any]] = [
    {"id": 1, "title": 'Déjà Vu, "live"', "tags": ["a", "b"], "info": {"year": 1999}},
    {"id": 2, "title": "line\nbreak", "tags": [], "info": {"year": None}},
    {"id": 3, "title": "☃", "artists": [{"name": "Kruder", "join": "&"}, {"name": "Dorfmeister"}]},
]


def collection_items() -> list[CollectionItem]:
    releases = load_example("users_collection_folder_releases_get_200.json")["releases"]
    return [CollectionItem.model_validate(release) for release in releases]


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


# --- JSON and JSON Lines ----------------------------------------------------------------------


def test_pretty_json_is_exactly_what_json_dumps_writes(tmp_path: Path) -> None:
    path = tmp_path / "out.json"

    JsonExporter().export(iter(ITEMS), path)

    assert (
        path.read_text(encoding="utf-8") == json.dumps(ITEMS, indent=2, ensure_ascii=False) + "\n"
    )


def test_minified_json_is_one_compact_array(tmp_path: Path) -> None:
    path = tmp_path / "out.json"

    JsonExporter(pretty=False).export(iter(ITEMS), path)

    expected = json.dumps(ITEMS, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert path.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("pretty", [True, False])
def test_an_empty_export_is_an_empty_json_array(tmp_path: Path, pretty: bool) -> None:
    path = tmp_path / "out.json"

    result = JsonExporter(pretty=pretty).export(iter([]), path)

    assert path.read_text(encoding="utf-8") == "[]\n"
    assert result.items_written == 0


def test_json_lines_hold_one_compact_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"

    result = JsonLinesExporter().export(ITEMS, path)

    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == ITEMS
    assert lines[0] == json.dumps(ITEMS[0], ensure_ascii=False, separators=(",", ":"))
    assert result.items_written == 3
    assert result.bytes_written == path.stat().st_size


def test_models_are_exported_with_every_field_they_received(tmp_path: Path) -> None:
    items = collection_items()
    extra = CollectionItem.model_validate(
        {"id": 5, "instance_id": 9, "basic_information": {"id": 5}, "added_by_discogs": [1]}
    )
    path = tmp_path / "out.json"

    JsonExporter().export([*items, extra], path)

    assert json.loads(path.read_text(encoding="utf-8")) == [
        *[item.to_dict() for item in items],
        {"id": 5, "instance_id": 9, "basic_information": {"id": 5}, "added_by_discogs": [1]},
    ]


# --- CSV --------------------------------------------------------------------------------------


def test_csv_header_is_model_columns_then_sampled_columns_then_extra_json(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    items = [item.to_dict() for item in collection_items()]
    items[0]["added_by_discogs"] = "new"

    result = CsvExporter(item_model=CollectionItem).export(items, path)

    header = read_csv(path)[0]
    assert header == list(result.columns)
    assert header[:2] == ["id", "instance_id"]
    assert header[-3:] == ["notes.3", "added_by_discogs", EXTRA_COLUMN]


def test_csv_columns_first_seen_after_the_sample_go_to_extra_json(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    items = [{"id": 1, "title": "a"}, {"id": 2, "title": "b", "late": {"field": "x, y"}}]

    CsvExporter(sample_size=1).export(items, path)

    rows = read_csv(path)
    assert rows[0] == ["id", "title", EXTRA_COLUMN]
    assert rows[1] == ["1", "a", ""]
    assert rows[2][:2] == ["2", "b"]
    assert json.loads(rows[2][2]) == {"late.field": "x, y"}


def test_csv_with_explicit_columns_keeps_exactly_those_plus_extra_json(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"

    CsvExporter(columns=["title", "id"]).export([{"id": 1, "title": "t", "x": 2}], path)

    assert read_csv(path) == [["title", "id", EXTRA_COLUMN], ["t", "1", '{"x":2}']]


def test_csv_values_with_commas_quotes_and_newlines_read_back_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    title = 'a, "b"\nc\r\nd\re'

    CsvExporter().export([{"id": 1, "title": title}], path)

    assert read_csv(path)[1][1] == title


def test_csv_is_plain_utf8_with_lf_line_ends_by_default(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"

    CsvExporter().export(ITEMS[:1], path)

    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in raw
    assert "Déjà Vu".encode() in raw


def test_excel_mode_writes_a_byte_order_mark_and_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"

    CsvExporter(excel=True).export(ITEMS, path)

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,title,")
    assert raw.count(b"\r\n") == 1 + len(ITEMS)  # the header and one per row
    assert raw.count(b"\n") == 1 + len(ITEMS) + 1  # plus the line break inside a title
    rows = read_csv(path, encoding="utf-8-sig")
    assert rows[0][0] == "id"
    assert rows[2][1] == "line\nbreak"
    assert rows[3][rows[0].index("artists")] == "Kruder & Dorfmeister"


def test_csv_rejects_a_single_string_as_columns() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        CsvExporter(columns="id,title")

    assert caught.value.parameter == "columns"


# --- streaming --------------------------------------------------------------------------------

STREAM_COUNT = 100_000


@pytest.mark.parametrize("format_name", ["csv", "jsonl", "json"])
def test_export_writes_items_to_disk_while_the_generator_still_runs(
    tmp_path: Path, format_name: str
) -> None:
    produced = 0
    staged_bytes_at_half: list[int] = []

    def generate() -> Iterator[dict[str, Any]]:
        nonlocal produced
        for number in range(STREAM_COUNT):
            if number == STREAM_COUNT // 2:
                [staged] = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
                staged_bytes_at_half.append(staged.stat().st_size)
            produced += 1
            yield {"id": number, "title": f"title {number}"}

    result = exporter_for(format_name).export(generate(), tmp_path / f"out.{format_name}")

    assert produced == result.items_written == STREAM_COUNT
    # Half the items produced → (nearly) half the bytes already on disk: nothing was collected.
    assert staged_bytes_at_half[0] >= 0.45 * result.bytes_written


class _CountingBuffer(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> int:
        self.writes += 1
        return super().write(data)


@pytest.mark.parametrize("format_name", ["csv", "jsonl", "json"])
def test_records_are_written_a_batch_at_a_time_not_one_call_each(format_name: str) -> None:
    exporter = exporter_for(format_name)
    encoder = exporter.staging_encoder(exporter.plan(ITEMS))
    records = [dict(ITEMS[number % 3], id=number) for number in range(1000)]
    batched = _CountingBuffer()
    one_by_one = b"".join(encoder.encode(record, index) for index, record in enumerate(records))

    count = write_records(batched, encoder, records, start=0)

    assert count == 1000
    assert batched.getvalue() == one_by_one
    assert batched.writes == -(-1000 // WRITE_BATCH)


def test_records_given_before_a_failing_iterator_are_still_written() -> None:
    encoder = JsonLinesExporter().staging_encoder({})

    def records() -> Iterator[dict[str, Any]]:
        yield from ITEMS
        raise RuntimeError("the source broke")

    handle = io.BytesIO()
    with pytest.raises(RuntimeError, match="the source broke"):
        write_records(handle, encoder, records(), start=0)

    assert [json.loads(line) for line in handle.getvalue().splitlines()] == ITEMS


def test_sqlite_export_upserts_each_item_as_it_is_produced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    produced = upserted = 0
    most_ahead = 0
    real_upsert = sqlite_module._Table.upsert

    def counting_upsert(self: Any, values: Any) -> None:
        nonlocal upserted
        upserted += 1
        real_upsert(self, values)

    monkeypatch.setattr(sqlite_module._Table, "upsert", counting_upsert)

    def generate() -> Iterator[dict[str, Any]]:
        nonlocal produced, most_ahead
        for number in range(20_000):
            produced += 1
            most_ahead = max(most_ahead, produced - upserted)
            yield {"id": number, "title": f"title {number}"}

    result = SqliteExporter().export(generate(), tmp_path / "out.sqlite")

    assert result.items_written == upserted == 20_000
    assert most_ahead == 1


# --- choosing a format, and errors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "exporter_class"),
    [
        ("csv", CsvExporter),
        ("json", JsonExporter),
        ("JSONL", JsonLinesExporter),
        ("sqlite", SqliteExporter),
    ],
)
def test_exporter_for_picks_the_class_of_each_format(
    name: str, exporter_class: type[Exporter]
) -> None:
    assert type(exporter_for(name)) is exporter_class


def test_exporter_for_passes_options_to_the_format() -> None:
    exporter = exporter_for("csv", excel=True, item_model=CollectionItem)

    assert isinstance(exporter, CsvExporter)
    assert exporter.excel is True
    assert exporter.item_model is CollectionItem


def test_json_formats_accept_the_item_description_the_command_line_passes_to_all() -> None:
    assert isinstance(exporter_for("jsonl", item_model=CollectionItem, field_names={}), Exporter)


def test_an_unknown_format_names_the_parameter_and_the_allowed_formats() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        exporter_for("xml")

    assert caught.value.parameter == "format"
    assert list(caught.value.allowed or []) == ["csv", "json", "jsonl", "sqlite"] == list(FORMATS)
    assert "csv, json, jsonl, sqlite" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_an_option_the_format_does_not_take_is_named_in_the_error() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        exporter_for("json", excel=True)

    assert caught.value.parameter == "excel"
    assert "pretty" in str(caught.value)


def test_an_item_that_is_neither_model_nor_dict_is_refused_naming_items(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        JsonLinesExporter().export([{"id": 1}, 42], tmp_path / "out.jsonl")

    assert caught.value.parameter == "items"
    assert "item 1" in str(caught.value)
    assert not (tmp_path / "out.jsonl").exists()


def test_a_single_dict_instead_of_items_is_refused_before_writing() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        CsvExporter().validate_data({"id": 1})

    assert caught.value.parameter == "items"


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_a_destination_in_a_missing_folder_is_refused_naming_destination(
    tmp_path: Path, format_name: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        exporter_for(format_name).export(ITEMS, tmp_path / "missing" / "out")

    assert caught.value.parameter == "destination"
    assert "does not exist" in str(caught.value)


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_a_folder_as_destination_is_refused_naming_destination(
    tmp_path: Path, format_name: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        exporter_for(format_name).export(ITEMS, tmp_path)

    assert caught.value.parameter == "destination"


def test_a_destination_below_a_file_is_refused_naming_destination(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")

    with pytest.raises(InvalidParameterError) as caught:
        CsvExporter().export(ITEMS, tmp_path / "file" / "out.csv")

    assert caught.value.parameter == "destination"
    assert "is not a folder" in str(caught.value)
