"""JSON and JSON Lines write models through pydantic-core in one step (no `model_dump` then
`json.dumps`), and the bytes are exactly what the round trip wrote: every float spelling, every
escape, unknown fields, pretty and compact."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from discogs_models import CollectionItem
from discogs_spec import load_example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from musicagent.export import ExportJob, JsonExporter, JsonLinesExporter
from musicagent.export.records import dump_json, json_bytes, json_lines


def _template() -> dict[str, Any]:
    release: dict[str, Any] = load_example("users_collection_folder_releases_get_200.json")[
        "releases"
    ][0]
    return release


def _round_trip(model: BaseModel, indent: int | None = None) -> bytes:
    """What the exporters wrote before: `to_dict()`, then `json.dumps`."""
    to_dict = getattr(model, "to_dict", None)
    record = to_dict() if callable(to_dict) else model.model_dump(mode="json", by_alias=True)
    return dump_json(record, indent=indent).encode("utf-8")


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in CollectionItem.model_fields),
        JSON_VALUES,
        max_size=4,
    ),
    title=st.text(max_size=20),
    rating=st.integers(min_value=0, max_value=5),
)
def test_a_model_is_written_byte_for_byte_as_the_round_trip_wrote_it(
    extra: dict[str, Any], title: str, rating: int
) -> None:
    body = _template()
    body["basic_information"]["title"] = title
    body["rating"] = rating
    model = CollectionItem.model_validate_json(json.dumps({**body, **extra}))

    assert json_bytes(model) == _round_trip(model)
    assert json_bytes(model, indent=2) == _round_trip(model, indent=2)


@pytest.mark.parametrize(
    "value",
    [1e-05, 1.5e-07, -3.2e-09, 0.00001234, 1e-4, 1e16, 1e22, 5e-324, 0.1, -0.0, 123.0, 2**64],
)
def test_floats_pydantic_core_spells_differently_are_written_as_python_spells_them(
    value: float,
) -> None:
    model = CollectionItem.model_validate({**_template(), "price": value, "list": [value]})

    assert json_bytes(model) == _round_trip(model)


def test_a_model_with_its_own_to_dict_is_written_through_it() -> None:
    class Renamed(BaseModel):
        id: int

        def to_dict(self) -> dict[str, Any]:
            return {"renamed": self.id}

    assert json_bytes(Renamed(id=3)) == b'{"renamed":3}'


def test_plain_dicts_keep_their_text_rules() -> None:
    import datetime

    record = {"when": datetime.date(2024, 1, 2), 1: "key", "é": 1e-05}

    assert json_bytes(record) == '{"when":"2024-01-02","1":"key","é":1e-05}'.encode()


def _items(count: int) -> list[CollectionItem]:
    template = _template()
    items = []
    for number in range(count):
        body = json.loads(json.dumps(template))
        body["instance_id"] = number + 1
        body["basic_information"]["title"] = f'Título {number}, "q"\n\t\u2028 😀'
        body["weight"] = number / 7
        items.append(CollectionItem.model_validate_json(json.dumps(body)))
    return items


@pytest.mark.parametrize(
    "exporter",
    [JsonLinesExporter(), JsonExporter(), JsonExporter(pretty=False)],
    ids=["jsonl", "json", "json-compact"],
)
def test_models_are_exported_without_being_dumped_to_dicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exporter: Any
) -> None:
    items = _items(25)
    dicts = [item.to_dict() for item in items]
    expected = exporter.export(dicts, tmp_path / "from-dicts").destination.read_bytes()

    def no_round_trip(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("model_dump called: the item went through a dict")

    monkeypatch.setattr(CollectionItem, "model_dump", no_round_trip)
    exported = exporter.export(items, tmp_path / "from-models").destination.read_bytes()
    pages = [items[:10], items[10:20], items[20:]]
    job = ExportJob(
        fetch_page=lambda n: (pages[n - 1], len(pages), len(items)),
        exporter=exporter,
        destination=tmp_path / "from-pages",
        kind="collection",
        durable=False,
    )
    paged = job.run().destination.read_bytes()

    assert exported == expected
    assert paged == expected


@pytest.mark.parametrize(
    "members",
    [{}, {"type": "release", "role": "Main"}, {"role": "Remix"}],
    ids=["declared-only", "extras", "one-extra"],
)
def test_a_model_identifies_itself_as_its_dict_does(members: dict[str, Any]) -> None:
    from musicagent.pagination import item_identity

    model = CollectionItem.model_validate({**_template(), **members})

    assert item_identity(model) == item_identity(model.to_dict())
    assert item_identity(MappingProxyType(model.to_dict())) == item_identity(model.to_dict())
    assert item_identity(model)[2:] == (members.get("type"), members.get("role"))


FLOATS = [1e-05, 1.5e-07, 0.00001234, 1e16, 0.1, 2.5, 123.0]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=st.lists(
        st.tuples(st.booleans(), st.sampled_from([None, *FLOATS]), st.text(max_size=10)),
        max_size=12,
    )
)
def test_a_batch_of_lines_is_every_items_line_joined(
    spec: list[tuple[bool, float | None, str]],
) -> None:
    """Models and dicts mixed, with or without a float pydantic-core spells its own way (the
    batch is scanned once; an item that needs the long way takes it, the others do not)."""
    items: list[Any] = []
    for as_model, price, title in spec:
        body = {**_template(), "title_seen": title}
        if price is not None:
            body["price"] = price
        items.append(CollectionItem.model_validate(body) if as_model else body)

    assert json_lines(items) == b"".join(json_bytes(item) + b"\n" for item in items)
