"""SQLite rows are keyed by what identifies an item of each kind, so no row is silently lost,
and the result counts the rows written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from musicagent.errors import InvalidParameterError
from musicagent.export import ExportJob, SqliteExporter
from musicagent.export.sqlite_exporter import KIND_KEYS, read_rows
from tests.conftest import ROOT

CAPTURES = ROOT / "tests" / "data" / "captures"


def _body(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CAPTURES / name).read_text(encoding="utf-8"))
    return data.get("body", data) if "pagination" not in data else data


def test_an_artist_listing_one_release_under_two_roles_keeps_both_rows(tmp_path: Path) -> None:
    releases = _body("artist-releases/relurl-artist-1-releases-p1.json")["releases"]
    assert [r["id"] for r in releases].count(5955) == 2  # the real capture: remix + appearance

    result = SqliteExporter(table="artist_releases", key=KIND_KEYS["artist-releases"]).export(
        releases, tmp_path / "a.sqlite"
    )

    rows = read_rows(tmp_path / "a.sqlite", "artist_releases")
    assert len(rows) == len(releases) == 50
    assert result.rows == 50
    assert sorted(r["role"] for r in rows if r["id"] == 5955) == ["Remix", "TrackAppearance"]


def test_a_search_mixing_types_with_one_id_keeps_every_result(tmp_path: Path) -> None:
    results = [
        {"type": "release", "id": 7, "title": "a release"},
        {"type": "master", "id": 7, "title": "a master"},
        {"type": "artist", "id": 7, "title": "an artist"},
    ]

    result = SqliteExporter(table="search", key=KIND_KEYS["search"]).export(
        results, tmp_path / "s.sqlite"
    )

    assert len(read_rows(tmp_path / "s.sqlite", "search")) == 3
    assert result.rows == 3


def test_a_rerun_with_a_composite_key_upserts_without_duplicates(tmp_path: Path) -> None:
    exporter = SqliteExporter(table="search", key=("type", "id"))
    exporter.export([{"type": "release", "id": 1, "title": "old"}], tmp_path / "s.sqlite")
    exporter.export(
        [{"type": "release", "id": 1, "title": "new"}, {"type": "label", "id": 1}],
        tmp_path / "s.sqlite",
    )

    rows = read_rows(tmp_path / "s.sqlite", "search")
    assert sorted((r["type"], r["title"]) for r in rows) == [("label", None), ("release", "new")]


def test_a_missing_part_of_a_composite_key_still_tells_rows_apart(tmp_path: Path) -> None:
    items = [{"id": 1, "catno": "A-1"}, {"id": 1}, {"id": 1, "catno": "A-2"}]

    result = SqliteExporter(table="l", key=KIND_KEYS["label-releases"]).export(
        items, tmp_path / "l.sqlite"
    )

    assert result.rows == 3
    assert sorted(r["catno"] for r in read_rows(tmp_path / "l.sqlite", "l")) == ["", "A-1", "A-2"]


def test_items_sharing_a_key_are_counted_as_the_rows_they_make(tmp_path: Path) -> None:
    result = SqliteExporter(table="t").export([{"id": 1}, {"id": 1}, {"id": 2}], tmp_path / "x.db")

    assert (result.items_written, result.rows) == (3, 2)


def test_a_table_keyed_otherwise_is_refused_naming_its_key(tmp_path: Path) -> None:
    SqliteExporter(table="search").export([{"type": "release", "id": 1}], tmp_path / "s.sqlite")

    with pytest.raises(InvalidParameterError, match="keyed by id") as caught:
        SqliteExporter(table="search", key=("type", "id")).export(
            [{"type": "release", "id": 1}], tmp_path / "s.sqlite"
        )
    assert caught.value.parameter == "key"


def test_a_resumable_job_counts_rows(tmp_path: Path) -> None:
    pages = [[{"type": "release", "id": 1}, {"type": "master", "id": 1}], [{"type": "x", "id": 1}]]
    result = ExportJob(
        fetch_page=lambda n: (pages[n - 1], 2, 3),
        exporter=SqliteExporter(table="search", key=KIND_KEYS["search"]),
        destination=tmp_path / "s.sqlite",
        kind="search",
        durable=False,
    ).run()

    assert result.rows == 3
