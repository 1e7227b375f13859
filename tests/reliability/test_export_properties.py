"""Property tests of the whole export path: API pages of models, through `ExportJob`, to files
that read back to the same values — also when the run is interrupted and resumed.

`tests/unit/test_export_flatten.py` already pins flattening and the CSV round trip of
`CsvExporter.export` for arbitrary records. What is added here is the path an export really
takes: collection items parsed into `CollectionItem` models (unknown fields kept), served in
pages of any size, written page by page with checkpoints, cut off after any page (with a
half-written page left in the partial file) and resumed. Hypothesis runs derandomized.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from discogs_models import CollectionItem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicagent.errors import NetworkError
from musicagent.export import (
    EXTRA_COLUMN,
    ExportJob,
    cell_text,
    exporter_for,
    flatten_record,
    page_contents,
)

REPEATABLE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
FIELD_NAMES = {1: "Media", 2: "Sleeve", 3: "Notes"}

# Text that trips CSV and JSON writers, next to any other Unicode.
tricky = st.sampled_from([",", '"', "\n", "\r", ";", " ", "é", "☃", "\u2028", "\x00"])
texts = st.text(st.one_of(st.characters(codec="utf-8"), tricky), max_size=10)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), texts)
artists = st.lists(
    st.fixed_dictionaries(
        {"id": st.integers(1, 10**6), "name": texts}, optional={"join": st.sampled_from(["&", ","])}
    ),
    max_size=3,
)
basic_information = st.fixed_dictionaries(
    {"id": st.integers(1, 10**7)},
    optional={
        "title": texts,
        "year": st.integers(0, 2030),
        "genres": st.lists(texts, max_size=3),
        "artists": artists,
        "formats": st.lists(st.fixed_dictionaries({"name": texts, "qty": texts}), max_size=2),
    },
)
notes = st.lists(st.fixed_dictionaries({"field_id": st.integers(1, 3), "value": texts}), max_size=3)
# Fields Discogs may add one day: they must come through every format.
unknown_fields = st.dictionaries(st.sampled_from(["mood", "label_note", "x.y"]), scalars)


@st.composite
def collection_items(draw: st.DrawFn, count: int) -> list[CollectionItem]:
    items = []
    for number in range(1, count + 1):
        body: dict[str, Any] = {"id": 10_000 + number, "instance_id": number}
        # Every real collection item has basic_information (the spec requires it).
        body["basic_information"] = draw(basic_information)
        if draw(st.booleans()):
            body["notes"] = draw(notes)
        body["rating"] = draw(st.integers(0, 5))
        body.update(draw(unknown_fields))
        items.append(CollectionItem.model_validate_json(json.dumps(body)))
    return items


@st.composite
def exports(draw: st.DrawFn) -> tuple[list[CollectionItem], int, str]:
    count = draw(st.integers(min_value=1, max_value=60))
    page_size = draw(st.integers(min_value=1, max_value=25))
    return draw(collection_items(count)), page_size, draw(st.sampled_from(["csv", "json", "jsonl"]))


def pages_of(items: list[CollectionItem], size: int) -> list[dict[str, Any]]:
    """The collection as the API pages it: models under `releases`, with `pagination`."""
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    return [
        {
            "releases": chunk,
            "pagination": {"page": n, "pages": len(chunks), "items": len(items)},
        }
        for n, chunk in enumerate(chunks, start=1)
    ]


def _exporter(fmt: str) -> Any:
    if fmt == "csv":
        return exporter_for(
            "csv",
            item_model=CollectionItem,
            field_names=FIELD_NAMES,
            sample_size=100,
            formula_guard=False,  # the machine consumer's round trip
        )
    return exporter_for(fmt)


def _job(
    pages: list[dict[str, Any]], fmt: str, destination: Path, fail_at: int | None
) -> ExportJob:
    def fetch_page(number: int) -> tuple[Iterable[object], int, int | None]:
        if number == fail_at:
            raise NetworkError("connection lost (simulated)", method="GET", url="http://x/")
        return page_contents(pages[number - 1], "releases")

    return ExportJob(
        fetch_page=fetch_page,
        exporter=_exporter(fmt),
        destination=destination,
        kind="collection",
        query={"username": "walker", "folder_id": 0},
        durable=False,
    )


def _read_back(path: Path, fmt: str) -> Any:
    # Read as any reader would, with no newline translation: a lone "\r" in a CSV cell and a
    # U+2028 inside a JSON string are data, not line ends.
    with path.open(encoding="utf-8", newline="") as handle:
        if fmt == "json":
            return json.load(handle)
        if fmt == "jsonl":
            return [json.loads(line) for line in handle]
        return list(csv.reader(handle))


@REPEATABLE
@given(exports(), st.data())
def test_an_export_cut_off_after_any_page_resumes_to_the_same_file(
    export: tuple[list[CollectionItem], int, str], data: st.DataObject
) -> None:
    items, page_size, fmt = export
    pages = pages_of(items, page_size)
    fail_at = data.draw(st.integers(min_value=1, max_value=len(pages)), label="fail_at")
    junk = data.draw(st.binary(max_size=40), label="half-written page")
    with tempfile.TemporaryDirectory() as folder:
        whole = Path(folder) / f"whole.{fmt}"
        cut = Path(folder) / f"cut.{fmt}"
        _job(pages, fmt, whole, fail_at=None).run()

        with pytest.raises(NetworkError):
            _job(pages, fmt, cut, fail_at=fail_at).run(resume=True)
        partial = cut.with_name(cut.name + ".partial")
        assert not cut.exists()
        if partial.exists():  # cut off after page 1 or later: some pages are on disk
            with partial.open("ab") as handle:
                handle.write(junk)
        result = _job(pages, fmt, cut, fail_at=None).run(resume=True)

        assert cut.read_bytes() == whole.read_bytes()
        assert result.items_written == len(items)
        assert sorted(p.name for p in Path(folder).iterdir()) == sorted([whole.name, cut.name])


@REPEATABLE
@given(exports())
def test_exported_files_read_back_to_the_items(
    export: tuple[list[CollectionItem], int, str],
) -> None:
    items, page_size, fmt = export
    records = [item.to_dict() for item in items]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"out.{fmt}"
        _job(pages_of(items, page_size), fmt, path, fail_at=None).run()
        read = _read_back(path, fmt)

    if fmt != "csv":
        assert read == records  # every field, unknown ones included, in order
        return
    header, rows = read[0], read[1:]
    assert header[-1] == EXTRA_COLUMN and len(rows) == len(records)
    for record, cells in zip(records, rows, strict=True):
        assert len(cells) == len(header)
        flat = {k: cell_text(v) for k, v in flatten_record(record, field_names=FIELD_NAMES).items()}
        in_header = dict(zip(header[:-1], cells[:-1], strict=True))
        extra = {k: cell_text(v) for k, v in json.loads(cells[-1]).items()} if cells[-1] else {}
        expected = {k: v for k, v in flat.items() if k in in_header or v != ""}
        expected.update({k: "" for k in in_header if k not in flat})
        assert {**in_header, **extra} == expected


@settings(REPEATABLE, max_examples=25)
@given(
    st.integers(min_value=1, max_value=250).flatmap(collection_items),
    st.sampled_from(["csv", "json", "jsonl"]),
)
def test_a_page_by_page_export_of_api_pages_equals_a_one_shot_export(
    items: list[CollectionItem], fmt: str
) -> None:
    # With the API's own page size the resumable path writes exactly what `export()` writes.
    with tempfile.TemporaryDirectory() as folder:
        paged, streamed = Path(folder) / f"paged.{fmt}", Path(folder) / f"streamed.{fmt}"
        _job(pages_of(items, 100), fmt, paged, fail_at=None).run()
        _exporter(fmt).export(items, streamed)

        assert paged.read_bytes() == streamed.read_bytes()
