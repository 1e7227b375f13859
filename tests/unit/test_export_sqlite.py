"""SQLite exports: one table, keyed by the item id, upserted so a re-run updates rather than
duplicates; flattened columns plus nested values as JSON."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from discogs_models import CollectionItem
from discogs_spec import load_example

from musicagent.errors import InvalidParameterError
from musicagent.export import SqliteExporter
from musicagent.export.sqlite_exporter import read_rows


def collection_item(instance_id: int, title: str, *, release_id: int = 10) -> dict[str, Any]:
    item: dict[str, Any] = load_example("users_collection_folder_releases_get_200.json")[
        "releases"
    ][0]
    item["instance_id"] = instance_id
    item["id"] = release_id
    item["basic_information"]["title"] = title
    return item


def primary_key(path: Path, table: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        info = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
    return [column[1] for column in info if column[5]]


def test_a_rerun_updates_existing_rows_and_adds_new_ones_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "collection.sqlite"
    exporter = SqliteExporter(table="collection")
    exporter.export([collection_item(1, "One"), collection_item(2, "Two")], path)

    result = exporter.export(
        [collection_item(2, "Two (remastered)"), collection_item(3, "Three")], path
    )

    rows = {row["instance_id"]: row for row in read_rows(path, "collection")}
    assert sorted(rows) == [1, 2, 3]
    assert rows[1]["basic_information.title"] == "One"
    assert rows[2]["basic_information.title"] == "Two (remastered)"
    assert rows[3]["basic_information.title"] == "Three"
    assert result.items_written == 2


def test_collection_items_are_keyed_by_instance_id_so_two_copies_stay_two_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "collection.sqlite"

    SqliteExporter(table="collection").export(
        [collection_item(1, "Copy", release_id=5), collection_item(2, "Copy", release_id=5)], path
    )

    assert primary_key(path, "collection") == ["instance_id"]
    assert len(read_rows(path, "collection")) == 2


def test_other_items_are_keyed_by_id(tmp_path: Path) -> None:
    path = tmp_path / "wants.sqlite"

    SqliteExporter(table="wantlist").export([{"id": 1, "rating": 3}, {"id": 1, "rating": 5}], path)

    assert primary_key(path, "wantlist") == ["id"]
    assert read_rows(path, "wantlist") == [{"id": 1, "rating": 5}]


def test_the_key_can_be_named(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"

    SqliteExporter(table="t", key="listing").export([{"listing": 9, "id": 1}], path)

    assert primary_key(path, "t") == ["listing"]


def test_ids_given_as_text_or_number_are_the_same_row(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"

    SqliteExporter().export([{"id": "42", "v": "text"}, {"id": 42, "v": "number"}], path)

    assert read_rows(path, "items") == [{"id": 42, "v": "number"}]


def test_a_field_gone_from_an_item_is_null_after_a_rerun(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"
    SqliteExporter().export([{"id": 1, "note": "old"}], path)

    SqliteExporter().export([{"id": 1}], path)

    assert read_rows(path, "items") == [{"id": 1, "note": None}]


def test_nested_values_are_json_columns_beside_flattened_scalar_columns(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"
    item = collection_item(1, "Information Chase")

    SqliteExporter(table="collection", field_names={3: "Notes"}).export([item], path)

    [row] = read_rows(path, "collection")
    assert json.loads(row["basic_information_json"]) == item["basic_information"]
    assert json.loads(row["notes_json"]) == item["notes"]
    assert row["basic_information.genres"] == "Electronic; Pop"
    assert row["basic_information.year"] == 2006
    assert row["basic_information.artists"] == "Bit Shifter"
    assert row["notes.Notes"] == "bleep bloop blorp."


def test_declared_model_columns_come_first_in_declaration_order(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"

    SqliteExporter(table="c", item_model=CollectionItem).export([{"instance_id": 1, "x": 2}], path)

    columns = list(read_rows(path, "c")[0])
    assert columns[:4] == ["instance_id", "id", "folder_id", "rating"]
    assert columns[-1] == "x"


def test_models_and_dicts_give_the_same_rows(tmp_path: Path) -> None:
    item = collection_item(1, "Same")
    SqliteExporter().export([item], tmp_path / "dicts.sqlite")
    SqliteExporter().export([CollectionItem.model_validate(item)], tmp_path / "models.sqlite")

    from_dicts = read_rows(tmp_path / "dicts.sqlite", "items")
    from_models = read_rows(tmp_path / "models.sqlite", "items")
    assert [json.loads(r["basic_information_json"]) for r in from_dicts] == [
        json.loads(r["basic_information_json"]) for r in from_models
    ]


def test_columns_differing_only_in_letter_case_are_both_kept(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"

    SqliteExporter().export([{"id": 1, "name": "lower", "Name": "upper"}], path)

    assert read_rows(path, "items") == [{"id": 1, "name": "lower", "Name#2": "upper"}]


def test_table_names_with_spaces_and_quotes_work(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"

    SqliteExporter(table='my "best" records').export([{"id": 1}], path)

    assert read_rows(path, 'my "best" records') == [{"id": 1}]


def test_an_item_without_its_key_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"
    SqliteExporter().export([{"id": 1}], path)
    before = path.read_bytes()

    with pytest.raises(InvalidParameterError) as caught:
        SqliteExporter().export([{"id": 2}, {"title": "no id"}], path)

    assert caught.value.parameter == "key"
    assert "item 1" in str(caught.value)
    assert path.read_bytes() == before


def test_a_table_keyed_differently_is_refused_naming_key(tmp_path: Path) -> None:
    path = tmp_path / "out.sqlite"
    SqliteExporter(table="t", key="id").export([{"id": 1, "other": 2}], path)

    with pytest.raises(InvalidParameterError) as caught:
        SqliteExporter(table="t", key="other").export([{"id": 1, "other": 2}], path)

    assert caught.value.parameter == "key"
    assert caught.value.allowed == ["id"]


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("not a database, just text " * 100, encoding="utf-8")

    with pytest.raises(InvalidParameterError) as caught:
        SqliteExporter().export([{"id": 1}], path)

    assert caught.value.parameter == "destination"
    assert path.read_text(encoding="utf-8").startswith("not a database")
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("table", ["", "sqlite_master"])
def test_an_unusable_table_name_is_refused_naming_table(table: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        SqliteExporter(table=table)

    assert caught.value.parameter == "table"


def test_other_tables_in_the_database_survive_an_export(tmp_path: Path) -> None:
    path = tmp_path / "all.sqlite"
    SqliteExporter(table="collection").export([{"instance_id": 1}], path)

    SqliteExporter(table="wantlist").export([{"id": 7}], path)

    assert read_rows(path, "collection") == [{"instance_id": 1}]
    assert read_rows(path, "wantlist") == [{"id": 7}]
