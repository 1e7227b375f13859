"""The CSV flattening rule: dotted columns, joined lists, readable credits, custom fields, and a
CSV round trip that holds for arbitrary nested data."""

from __future__ import annotations

import copy
import csv
import json
import tempfile
from pathlib import Path
from typing import Any

from discogs_models import CollectionItem
from discogs_spec import load_example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicagent.export import (
    EXTRA_COLUMN,
    CsvExporter,
    Flattener,
    cell_text,
    custom_field_names,
    flatten_record,
    readable_join,
    schema_columns,
)

FIELDS = {1: "Media", 2: "Sleeve", 3: "Notes"}


def collection_item() -> dict[str, Any]:
    item: dict[str, Any] = load_example("users_collection_folder_releases_get_200.json")[
        "releases"
    ][0]
    return item


def test_nested_objects_become_dotted_columns_in_record_order() -> None:
    row = flatten_record({"id": 7, "basic_information": {"title": "Mezzanine", "year": 1998}})

    assert list(row) == ["id", "basic_information.title", "basic_information.year"]
    assert row["basic_information.title"] == "Mezzanine"
    assert row["basic_information.year"] == 1998


def test_lists_of_scalars_are_joined_with_semicolons() -> None:
    row = flatten_record({"genres": ["Electronic", "Jazz"], "years": [1999, 2001], "none": []})

    assert row == {"genres": "Electronic; Jazz", "years": "1999; 2001", "none": ""}


def test_artist_credits_read_as_joined_names_and_keep_full_json() -> None:
    artists = [
        {"id": 1, "name": "Kruder", "join": "&"},
        {"id": 2, "name": "Dorfmeister", "join": ""},
    ]

    row = flatten_record({"artists": artists})

    assert row["artists"] == "Kruder & Dorfmeister"
    assert json.loads(str(row["artists_json"])) == artists


def test_a_comma_join_hugs_the_name_before_it() -> None:
    artists = [{"name": "A", "join": ","}, {"name": "B", "join": "Feat."}, {"name": "C"}]

    assert readable_join(artists) == "A, B Feat. C"


def test_elements_without_join_are_separated_by_semicolons() -> None:
    labels = [{"name": "Warp", "catno": "WAP1"}, {"name": "Mute", "catno": "STUMM1"}]

    assert flatten_record({"labels": labels})["labels"] == "Warp; Mute"


def test_main_field_falls_back_from_name_to_title_to_value_then_json() -> None:
    elements = [{"title": "Side A"}, {"value": "v"}, {"name": "", "title": "T"}, {"x": 1}]

    assert readable_join(elements) == 'Side A; v; T; {"x":1}'


def test_custom_fields_become_one_column_per_named_field() -> None:
    notes = [{"field_id": 1, "value": "Mint (M)"}, {"field_id": 3, "value": "signed"}]

    row = flatten_record({"notes": notes}, field_names=FIELDS)

    assert row == {"notes.Media": "Mint (M)", "notes.Notes": "signed"}


def test_custom_fields_without_names_use_the_field_id() -> None:
    row = flatten_record({"notes": [{"field_id": 3, "value": "bleep"}]})

    assert row == {"notes.3": "bleep"}


def test_field_names_match_ids_given_as_numbers_or_strings() -> None:
    row = flatten_record({"notes": [{"field_id": "2", "value": "Generic"}]}, field_names=FIELDS)

    assert row == {"notes.Sleeve": "Generic"}


def test_objects_with_more_than_field_id_and_value_are_not_custom_fields() -> None:
    notes = [{"field_id": 1, "value": "x", "extra": True}]

    row = flatten_record({"notes": notes})

    assert row == {"notes": "x", "notes_json": json.dumps(notes, separators=(",", ":"))}


def test_a_taken_column_name_is_numbered_instead_of_overwritten() -> None:
    row = flatten_record({"a": {"b": 1}, "a.b": 2, "c": [{"name": "n"}], "c_json": "mine"})

    assert row == {"a.b": 1, "a.b#2": 2, "c": "n", "c_json": '[{"name":"n"}]', "c_json#2": "mine"}


def test_empty_objects_give_no_column() -> None:
    assert flatten_record({"id": 1, "pagination": {}}) == {"id": 1}


def test_cells_spell_null_as_empty_and_booleans_as_json() -> None:
    assert [cell_text(v) for v in (None, True, False, 0, 1.5, "x")] == [
        "",
        "true",
        "false",
        "0",
        "1.5",
        "x",
    ]


def test_collection_item_from_the_docs_flattens_to_readable_columns() -> None:
    row = Flattener(FIELDS)(CollectionItem.model_validate(collection_item()).to_dict())

    assert row["basic_information.title"] == "Information Chase"
    assert row["basic_information.artists"] == "Bit Shifter"
    assert row["basic_information.genres"] == "Electronic; Pop"
    assert row["basic_information.formats"] == "CDr"
    assert row["notes.Notes"] == "bleep bloop blorp."


def test_schema_columns_follow_the_model_declaration() -> None:
    columns = schema_columns(CollectionItem, field_names=FIELDS)

    assert columns[:5] == ["id", "instance_id", "folder_id", "rating", "date_added"]
    assert "basic_information.title" in columns
    artists = columns.index("basic_information.artists")
    assert columns[artists + 1] == "basic_information.artists_json"
    assert "basic_information.genres_json" not in columns
    assert columns[-3:] == ["notes.Media", "notes.Sleeve", "notes.Notes"]


def test_schema_columns_without_field_names_list_no_note_columns() -> None:
    assert not [c for c in schema_columns(CollectionItem) if c.startswith("notes")]


def test_custom_field_names_come_from_the_collection_fields_response() -> None:
    response = load_example("users_collection_fields_get_200.json")

    assert custom_field_names(response) == FIELDS


def test_custom_fields_sharing_a_name_are_told_apart_by_id() -> None:
    fields = [{"id": 4, "name": "Notes"}, {"id": 9, "name": "Notes"}, {"id": 1, "name": "Media"}]

    assert custom_field_names(fields) == {4: "Notes (4)", 9: "Notes (9)", 1: "Media"}


# --- property tests: arbitrary data survives flattening and a CSV round trip -----------------

# Characters that break naive CSV writers are drawn often, next to any other Unicode.
tricky = st.sampled_from([",", '"', "\n", "\r", ";", ".", " ", "\x00", "é", "☃", "\u2028"])
texts = st.text(st.one_of(st.characters(codec="utf-8"), tricky), max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
custom_fields = st.lists(
    st.fixed_dictionaries({"field_id": st.integers(1, 4)}, optional={"value": scalars}),
    min_size=1,
    max_size=3,
)
values = st.recursive(
    st.one_of(scalars, custom_fields),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=16,
)
records = st.dictionaries(texts, values, max_size=6)


@given(records)
def test_flattening_is_deterministic_and_gives_only_scalars(record: dict[str, Any]) -> None:
    row = flatten_record(record, field_names=FIELDS)

    assert row == flatten_record(copy.deepcopy(record), field_names=FIELDS)
    assert list(row) == list(flatten_record(copy.deepcopy(record), field_names=FIELDS))
    assert all(v is None or isinstance(v, str | int | float | bool) for v in row.values())


@given(st.lists(st.lists(st.fixed_dictionaries({"name": texts}), max_size=3)))
def test_json_column_of_a_list_of_objects_holds_the_list_exactly(
    lists: list[list[dict[str, Any]]],
) -> None:
    record = {f"k{i}": [*value, {"id": i}] for i, value in enumerate(lists)}

    row = flatten_record(record)

    for key, value in record.items():
        assert json.loads(str(row[f"{key}_json"])) == value


def read_back(path: Path, *, excel: bool) -> list[list[str]]:
    with path.open(encoding="utf-8-sig" if excel else "utf-8", newline="") as handle:
        return list(csv.reader(handle))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, min_size=1, max_size=4), st.booleans())
def test_csv_cells_read_back_equal_to_the_flattened_values(
    batch: list[dict[str, Any]], excel: bool
) -> None:
    # Only the first record chooses the header: later ones also exercise `extra_json`. The
    # formula guard is off: this is the machine consumer's round trip.
    exporter = CsvExporter(excel=excel, field_names=FIELDS, sample_size=1, formula_guard=False)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.csv"
        result = exporter.export(batch, path)
        rows = read_back(path, excel=excel)

    header, body = rows[0], rows[1:]
    assert header == list(result.columns)
    assert header[-1] == EXTRA_COLUMN
    assert header[:-1] == [
        c for c in flatten_record(batch[0], field_names=FIELDS) if c != EXTRA_COLUMN
    ]
    assert len(body) == len(batch)
    for record, cells in zip(batch, body, strict=True):
        assert len(cells) == len(header)
        flat = {k: cell_text(v) for k, v in flatten_record(record, field_names=FIELDS).items()}
        in_header = dict(zip(header[:-1], cells[:-1], strict=True))
        extra = {k: cell_text(v) for k, v in json.loads(cells[-1]).items()} if cells[-1] else {}
        expected = {k: v for k, v in flat.items() if (k in in_header or v != "")}
        expected.update({k: "" for k in in_header if k not in flat})
        assert {**in_header, **extra} == expected


# --- the exact-type fast paths give what the general path gives --------------------------------


class _Text(str):
    """A str subclass: never takes the exact-type fast path."""


class _Number(int):
    """An int subclass (like an IntEnum): never takes the exact-type fast path."""


class _Mapping(dict[str, Any]):
    """A dict subclass: never takes the exact-type fast path."""


def _disguised(value: Any) -> Any:
    """The same data in types the fast paths do not take: subclasses, tuples for lists."""
    if isinstance(value, dict):
        return _Mapping({key: _disguised(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_disguised(item) for item in value)
    if type(value) is str:
        return _Text(value)
    if type(value) is int:
        return _Number(value)
    return value


_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "name", "join", "a", "a.b", "value"]), inner)
        | st.lists(
            st.fixed_dictionaries({"field_id": st.integers(1, 3), "value": inner}), min_size=1
        )
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=st.dictionaries(st.sampled_from(["id", "a", "a.b", "notes", "x"]), _VALUES))
def test_fast_paths_flatten_and_write_cells_exactly_as_the_general_path(
    record: dict[str, Any],
) -> None:
    flattener = Flattener(FIELDS)

    fast = flattener(record)
    general = flattener(_disguised(record))

    assert list(fast) == list(general)
    assert [cell_text(value) for value in fast.values()] == [
        cell_text(value) for value in general.values()
    ]
