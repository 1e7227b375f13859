"""Exports are atomic: a failure mid-export leaves no file at the destination, the previous file
untouched, and no temporary file behind."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from musicagent.export import FORMATS, exporter_for


class Interrupted(Exception):
    """Stands in for whatever stops an export half-way (a network error, a bad item)."""


def items_then_failure(count: int, error: BaseException) -> Iterator[dict[str, Any]]:
    for number in range(count):
        yield {"id": number, "title": f"title {number}", "tags": ["x", "y"]}
    raise error


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_a_failure_mid_export_leaves_no_file_at_the_destination(
    tmp_path: Path, format_name: str
) -> None:
    destination = tmp_path / f"out.{format_name}"

    with pytest.raises(Interrupted):
        exporter_for(format_name).export(items_then_failure(500, Interrupted()), destination)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_a_failure_mid_export_leaves_the_previous_file_untouched(
    tmp_path: Path, format_name: str
) -> None:
    destination = tmp_path / f"out.{format_name}"
    exporter_for(format_name).export([{"id": 1, "title": "old"}], destination)
    before = destination.read_bytes()

    with pytest.raises(Interrupted):
        exporter_for(format_name).export(items_then_failure(500, Interrupted()), destination)

    assert destination.read_bytes() == before
    assert list(tmp_path.iterdir()) == [destination]


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_ctrl_c_mid_export_also_cleans_up(tmp_path: Path, format_name: str) -> None:
    destination = tmp_path / f"out.{format_name}"

    with pytest.raises(KeyboardInterrupt):
        exporter_for(format_name).export(items_then_failure(10, KeyboardInterrupt()), destination)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_a_finished_export_leaves_only_the_destination(tmp_path: Path, format_name: str) -> None:
    destination = tmp_path / f"out.{format_name}"

    exporter_for(format_name).export([{"id": 1}], destination)

    assert list(tmp_path.iterdir()) == [destination]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
@pytest.mark.parametrize("format_name", ["csv", "json", "jsonl"])
def test_the_exported_file_gets_normal_permissions_not_those_of_a_temporary_file(
    tmp_path: Path, format_name: str
) -> None:
    previous = os.umask(0o022)
    try:
        exporter_for(format_name).export([{"id": 1}], tmp_path / "out")
    finally:
        os.umask(previous)

    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o644


def test_the_temporary_file_is_written_beside_the_destination(tmp_path: Path) -> None:
    seen: list[Path] = []

    def items() -> Iterator[dict[str, Any]]:
        seen.extend(tmp_path.iterdir())
        yield {"id": 1}

    exporter_for("csv", sample_size=0).export(items(), tmp_path / "out.csv")

    staged = [path for path in seen if path.name != "out.csv.lock"]
    assert len(staged) == 1
    assert staged[0].parent == tmp_path
    assert staged[0].name.startswith(".out.csv.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # the lock is gone too
