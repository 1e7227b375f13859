"""The CSV exporter's fast paths give exactly what the general rule gives: lists of plain dicts
and of text flatten as the same items in a tuple do, a batch of rows is byte for byte the rows
the csv writer makes one at a time, the compact JSON is the standard encoder's text, and a
model becomes the record its `to_dict()` returns."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest
from discogs_models import CollectionItem
from discogs_models._base import DiscogsModel
from discogs_spec import load_example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from musicagent.export import CsvExporter, Flattener, readable_join
from musicagent.export import csv_exporter as csv_module
from musicagent.export.records import as_record, dump_json

FIELDS: dict[int | str, str] = {1: "Media", 2: "Sleeve", "3": "Notes"}


class Text(str):
    """Text of a subclass: the general rule takes it, the fast paths must not change it."""


class Number(int):
    pass


class Members(dict[Any, Any]):
    """An object of a dict subclass: the general rule reads it, JSON writes it as a dict."""


class Tone(enum.Enum):
    LOW = "low"


def _describe(row: dict[str, Any]) -> list[tuple[str, str, str]]:
    # Column, value and the value's exact type: a fast path must not turn a `str` subclass
    # into a `str` (or back) where the general rule does not.
    return [(column, repr(value), type(value).__name__) for column, value in row.items()]


TRICKY_TEXT = st.sampled_from(
    ["", " ", ",", " , ", "&", " & ", "Feat.", '"', "=1+1", "-2", "\n", "\r\n", "é", "\u2028"]
)
TEXTS = st.one_of(TRICKY_TEXT, st.text(max_size=6), st.builds(Text, st.text(max_size=4)))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    TEXTS,
    st.builds(Number, st.integers(-5, 5)),
    st.just(Tone.LOW),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3)
)
MAIN = st.sampled_from(["name", "title", "value", "username", "catno", "id", "join", "anv"])
ELEMENTS = st.dictionaries(MAIN | TEXTS, VALUES | SCALARS, max_size=5)
NOTES = st.lists(
    st.fixed_dictionaries(
        {"field_id": st.sampled_from([1, 2, 3, "1", "3", True, 1.0, Number(2), Text("2")])},
        optional={"value": VALUES},
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.lists(ELEMENTS, max_size=4), st.lists(TEXTS, max_size=4), NOTES, st.lists(SCALARS)
    ),
    st.sampled_from(["x", "a.b", "notes"]),
)
def test_a_list_flattens_as_the_same_items_in_a_tuple_do(items: list[Any], key: str) -> None:
    # A tuple always takes the general rule; a list of exact dicts or text takes a fast path.
    # A column already taken ("x" twice) must be numbered the same way on both.
    flattener = Flattener(FIELDS)
    as_list = flattener({key: items, "x": "taken", f"{key}_json": 1, f"{key}.Media": 2})
    as_tuple = flattener({key: tuple(items), "x": "taken", f"{key}_json": 1, f"{key}.Media": 2})

    assert _describe(as_list) == _describe(as_tuple)


@settings(max_examples=300, deadline=None)
@given(st.lists(ELEMENTS, min_size=1, max_size=4))
def test_plain_dicts_read_as_the_same_members_in_other_mappings(
    elements: list[dict[Any, Any]],
) -> None:
    # Elements that are not exact dicts take `readable_join`'s general branch.
    flattener = Flattener()
    general = [Members(element) for element in elements]

    assert _describe(flattener({"x": elements})) == _describe(flattener({"x": general}))
    assert readable_join(elements) == readable_join(general)


def test_the_readable_column_of_plain_dicts_keeps_the_credit_rules() -> None:
    artists = [
        {"name": "A", "join": ","},
        {"name": Text("B"), "join": " & "},
        {"title": "", "value": 0, "join": "  "},
        {"id": 7, "join": Text("Feat.")},
        {"other": [1]},
    ]
    row = Flattener()({"artists": artists, "one": [{"name": Text("Solo")}]})

    assert row["artists"] == 'A, B & 0; 7 Feat. {"other":[1]}'
    assert type(row["one"]) is str  # joined, as readable_join makes it


def _template() -> dict[str, Any]:
    item: dict[str, Any] = load_example("users_collection_folder_releases_get_200.json")[
        "releases"
    ][0]
    return item


CELLS = st.one_of(
    SCALARS,
    st.sampled_from(["=SUM(A1)", " -x", "\t1", "+1e3", "-12.5", "@me", "\uff1d1", "a\rb", "q,q"]),
)
RECORDS = st.dictionaries(
    st.sampled_from(["id", "title", "a", "a.b", "notes", "extra_json", "artists", "n"]),
    CELLS | st.lists(ELEMENTS, max_size=2) | NOTES,
    max_size=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(RECORDS, min_size=1, max_size=6),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, ["id", "title", "a.b", "artists", "artists_json", "n"], ["id"]]),
)
def test_a_batch_is_exactly_the_rows_the_csv_writer_makes_one_by_one(
    records: list[dict[str, Any]], excel: bool, guard: bool, columns: list[str] | None
) -> None:
    exporter = CsvExporter(
        excel=excel, formula_guard=guard, columns=columns, field_names=FIELDS, sample_size=2
    )
    encoder = exporter.staging_encoder(exporter.plan(records))

    one_by_one = b"".join(encoder.encode(record, n) for n, record in enumerate(records))
    assert encoder.encode_batch(records, 0) == one_by_one


def test_plain_rows_are_made_without_the_csv_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [CollectionItem.model_validate(_template()) for _ in range(3)]
    records = [as_record(item) for item in items]
    records[1]["basic_information"]["title"] = 'Say "hi", =then\r\nleave'
    exporter = CsvExporter(item_model=CollectionItem, field_names=FIELDS)
    encoder = exporter.staging_encoder(exporter.plan(records))
    expected = b"".join(encoder.encode(record, n) for n, record in enumerate(records))

    def no_writer(*args: Any) -> bytes:
        raise AssertionError("a plain row went through the csv writer")

    monkeypatch.setattr(type(encoder), "_line", no_writer)

    assert encoder.encode_batch(records, 0) == expected


class Lying(str):
    """Text whose own methods lie: the csv writer reads its characters, so must a batch."""

    def __contains__(self, other: object) -> bool:
        return False

    def replace(self, *args: Any) -> str:
        return "replaced"

    def __getitem__(self, index: Any) -> str:
        return "a"


def test_a_cell_of_a_str_subclass_is_written_from_its_characters() -> None:
    records: list[dict[str, Any]] = [
        {"a": Lying('x,"y"'), "b": Lying("=1")},
        {"a": "plain", "b": Lying("\n")},
    ]
    exporter = CsvExporter()
    encoder = exporter.staging_encoder(exporter.plan(records))

    batch = encoder.encode_batch(records, 0)

    assert batch == b"".join(encoder.encode(record, n) for n, record in enumerate(records))
    assert batch.startswith(b'"x,""y""",')


def test_rows_a_different_csv_module_would_quote_otherwise_go_through_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert csv_module._QUOTING_AS_CSV  # this Python's csv module quotes as `_quoted` does
    records: list[dict[str, Any]] = [
        {"a": 'x,"y"', "b": 1, "c": None, "d": True, "e": -0.5},
        {"a": "\n=1"},
    ]
    exporter = CsvExporter()
    encoder = exporter.staging_encoder(exporter.plan(records))
    fast = encoder.encode_batch(records, 0)

    monkeypatch.setattr(csv_module, "_QUOTING_AS_CSV", False)

    assert encoder.encode_batch(records, 0) == fast
    assert fast == b'"x,""y""",1,,true,-0.5,\n"\'\n=1",,,,,\n'


def test_a_record_that_fails_fails_as_on_its_own() -> None:
    records: list[dict[str, Any]] = [{"a": "fine"}, {"a": "lone \ud800"}, {"a": "never"}]
    exporter = CsvExporter(columns=["a"])
    encoder = exporter.staging_encoder(exporter.plan(records))

    with pytest.raises(UnicodeEncodeError) as alone:
        encoder.encode(records[1], 1)
    with pytest.raises(UnicodeEncodeError) as batched:
        encoder.encode_batch(records, 0)
    assert str(batched.value) == str(alone.value)


STANDARD = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
JSON_ODD = st.one_of(
    SCALARS,
    st.dates(),
    st.sets(st.integers(0, 3), max_size=2),
    st.binary(max_size=3),
    st.sampled_from(["\ud800", "\x00\x1f\x7f", "\u2028", 1e-05, float("inf"), 2**64, -0.0]),
)
JSON_VALUES = st.recursive(
    JSON_ODD,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.one_of(st.text(max_size=3), st.integers(-2, 2), st.booleans(), st.none()),
            inner,
            max_size=3,
        )
    ),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_compact_json_is_the_standard_encoders_text(value: Any) -> None:
    assert dump_json(value) == STANDARD.encode(value)


def test_compact_json_reports_what_the_standard_encoder_reports() -> None:
    circular: list[Any] = [1]
    circular.append(circular)
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]

    for value in (circular, deep, {(1, 2): "tuple key"}, [10**5000]):
        with pytest.raises(Exception) as expected:
            STANDARD.encode(value)
        with pytest.raises(type(expected.value)) as got:
            dump_json(value)
        assert str(got.value) == str(expected.value)
    assert dump_json([1, {"a": None}]) == '[1,{"a":null}]'  # and it still works afterwards


class OwnRecord(DiscogsModel):
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"own": self.id}


class OwnDump(DiscogsModel):
    id: int = 0

    def model_dump(self, **options: Any) -> dict[str, Any]:
        return {"dumped": self.id}


class Other(BaseModel):
    id: int = 0
    name: str = "x"


def test_a_model_becomes_the_record_its_to_dict_returns() -> None:
    body = {**_template(), "price": 1e-05, "tags": [{"name": "x", "weight": 0.5}], "n": 2**70}
    model = CollectionItem.model_validate(body)

    assert as_record(model) == model.to_dict()
    assert list(as_record(model)) == list(model.to_dict())
    assert as_record(OwnRecord(id=3)) == {"own": 3}
    assert as_record(OwnDump(id=4)) == {"dumped": 4}
    assert as_record(Other(id=5)) == {"id": 5}  # model_dump(exclude_unset=True)
