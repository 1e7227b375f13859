"""`musicagent export …`: files written, summary line, resume, and errors for bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from typer.testing import CliRunner

from musicagent.cli import app
from musicagent.cli.progress import eta_seconds, format_duration
from musicagent.ratelimit import RateLimitStatus

runner = CliRunner()
BASE = "https://api.discogs.com"
FOLDER = f"{BASE}/users/rodney/collection/folders/0/releases"


def _item(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "instance_id": 5000 + n,
        "folder_id": 1,
        "rating": n % 6,
        "date_added": "2024-01-02T03:04:05-08:00",
        "basic_information": {
            "id": n,
            "title": f'Title, with "quotes" {n}',
            "year": 1990 + n,
            "artists": [{"id": 1, "name": "Kruder", "join": "&"}, {"id": 2, "name": "Dorfmeister"}],
            "genres": ["Electronic", "Jazz"],
        },
        "notes": [{"field_id": 1, "value": "VG+"}],
    }


def _page(number: int, pages: int, per: int = 2) -> dict[str, Any]:
    items = [_item((number - 1) * per + i + 1) for i in range(per)]
    urls = {"next": f"{FOLDER}?page={number + 1}&per_page=100"} if number < pages else {}
    return {
        "pagination": {
            "page": number,
            "pages": pages,
            "per_page": 100,
            "items": pages * per,
            "urls": urls,
        },
        "releases": items,
    }


def _fields(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE}/users/rodney/collection/fields",
        json={
            "fields": [
                {
                    "id": 1,
                    "name": "Media",
                    "type": "dropdown",
                    "position": 1,
                    "public": True,
                    "options": ["VG+"],
                }
            ]
        },
        is_optional=True,
        is_reusable=True,
    )


def _pages(httpx_mock: HTTPXMock, pages: int = 3) -> None:
    for n in range(1, pages + 1):
        httpx_mock.add_response(url=f"{FOLDER}?page={n}&per_page=100", json=_page(n, pages))


def test_collection_exports_to_csv_with_flattened_columns(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    _fields(httpx_mock)
    _pages(httpx_mock)
    out = tmp_path / "collection.csv"
    result = runner.invoke(
        app,
        [
            "export",
            "collection",
            "rodney",
            "--format",
            "csv",
            "--out",
            str(out),
            "--token",
            "tok-123456",
        ],
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["instance_id"] for r in rows] == [str(5000 + n) for n in range(1, 7)]
    assert rows[0]["basic_information.title"] == 'Title, with "quotes" 1'
    assert rows[0]["basic_information.genres"] == "Electronic; Jazz"
    assert rows[0]["basic_information.artists"] == "Kruder & Dorfmeister"
    assert rows[0]["notes.Media"] == "VG+"
    assert "Exported 6 items" in result.output
    assert "requests" in result.output and "429" in result.output


def test_collection_exports_to_json(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    _pages(httpx_mock, 2)
    out = tmp_path / "collection.json"
    result = runner.invoke(app, ["export", "collection", "rodney", "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [item["id"] for item in data] == [1, 2, 3, 4]


def test_default_destination_is_in_the_export_dir(
    httpx_mock: HTTPXMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pages(httpx_mock, 1)
    monkeypatch.setenv("DISCOGS_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("DISCOGS_DEFAULT_EXPORT_FORMAT", "jsonl")
    result = runner.invoke(app, ["export", "collection", "rodney"])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "exports" / "collection-rodney.jsonl").read_text().splitlines()
    assert len(lines) == 2


def test_interrupted_export_resumes_to_an_identical_file(
    httpx_mock: HTTPXMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOGS_RETRY_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("DISCOGS_MAX_RETRIES", "2")
    uninterrupted = tmp_path / "whole.csv"
    _fields(httpx_mock)
    _pages(httpx_mock)
    assert (
        runner.invoke(
            app, ["export", "collection", "rodney", "-o", str(uninterrupted), "--no-cache"]
        ).exit_code
        == 0
    )

    out = tmp_path / "resumed.csv"
    httpx_mock.add_response(url=f"{FOLDER}?page=1&per_page=100", json=_page(1, 3))
    for _ in range(3):  # page 2 fails past every retry
        httpx_mock.add_exception(httpx.ConnectError("down"), url=f"{FOLDER}?page=2&per_page=100")
    first = runner.invoke(app, ["export", "collection", "rodney", "-o", str(out), "--no-cache"])
    assert first.exit_code == 5
    assert "--resume" in first.output
    assert not out.exists()

    httpx_mock.add_response(url=f"{FOLDER}?page=2&per_page=100", json=_page(2, 3))
    httpx_mock.add_response(url=f"{FOLDER}?page=3&per_page=100", json=_page(3, 3))
    second = runner.invoke(
        app, ["export", "collection", "rodney", "-o", str(out), "--no-cache", "--resume"]
    )
    assert second.exit_code == 0, second.output
    assert out.read_bytes() == uninterrupted.read_bytes()


def test_unknown_user_is_one_line_with_exit_4(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    httpx_mock.add_response(
        status_code=404,
        json={"message": "User does not exist or may have been deleted."},
        is_reusable=True,
    )
    result = runner.invoke(
        app, ["export", "wantlist", "nobody-here", "-o", str(tmp_path / "w.csv")]
    )
    assert result.exit_code == 4
    assert "nobody-here" in result.output
    assert "Traceback" not in result.output


def test_bad_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["export", "collection", "rodney", "--format", "xlsx"])
    assert result.exit_code == 2
    assert "csv" in result.output


def test_unwritable_destination_is_refused(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(
        app, ["export", "collection", "rodney", "-o", str(blocker / "sub" / "out.csv")]
    )
    assert result.exit_code == 2
    assert "error" in result.output


def test_second_identical_export_sends_no_requests(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    _pages(httpx_mock, 2)
    args = ["export", "collection", "rodney", "-f", "jsonl", "--token", "tok-123456"]
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "a.jsonl")]).exit_code == 0
    sent = len(httpx_mock.get_requests())
    second = runner.invoke(app, [*args, "-o", str(tmp_path / "b.jsonl")])
    assert second.exit_code == 0, second.output
    assert len(httpx_mock.get_requests()) == sent
    assert "0 requests, 2 cache hits" in second.output
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_eta_is_network_time_within_the_budget() -> None:
    rate = RateLimitStatus(limit=60, used=0, remaining=60, window=60.0, next_free_in=0.0)
    assert eta_seconds(10, 0.2, rate) == pytest.approx(2.0)


def test_eta_accounts_for_the_rate_limit_beyond_the_budget() -> None:
    rate = RateLimitStatus(limit=60, used=60, remaining=0, window=60.0, next_free_in=5.0)
    assert eta_seconds(121, 0.1, rate) == pytest.approx(5.0 + 120 * 1.0)


def test_durations_read_naturally() -> None:
    assert format_duration(0.42) == "0.4 s"
    assert format_duration(42) == "42 s"
    assert format_duration(185) == "3 min 5 s"
    assert format_duration(3720) == "1 h 02 min"
