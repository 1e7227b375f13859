"""`musicagent validate-response`: exit codes, problem lines, manifest mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from musicagent.cli import app
from tests.conftest import CAPTURES, EXAMPLES

runner = CliRunner()


def _release_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EXAMPLES / "releases_get_200.json").read_text())
    return body


def _write(tmp_path: Path, body: Any, name: str = "body.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_valid_doc_example_exits_0() -> None:
    result = runner.invoke(
        app,
        [
            "validate-response",
            "--method",
            "GET",
            "--status",
            "200",
            "/releases/249504",
            str(EXAMPLES / "releases_get_200.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok")


def test_full_api_url_is_matched_to_its_operation() -> None:
    result = runner.invoke(
        app,
        [
            "validate-response",
            "https://api.discogs.com/releases/249504?curr_abbr=USD",
            str(EXAMPLES / "releases_get_200.json"),
        ],
    )
    assert result.exit_code == 0, result.output


def test_string_where_tracklist_belongs_is_rejected_with_pointer(tmp_path: Path) -> None:
    body = _release_body()
    body["tracklist"] = "A1 Intro, A2 Outro"
    result = runner.invoke(
        app, ["validate-response", "/releases/249504", str(_write(tmp_path, body))]
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("/tracklist: ")


def test_object_where_id_belongs_is_rejected_with_pointer(tmp_path: Path) -> None:
    body = _release_body()
    body["artists"][0]["id"] = {"value": 1}
    result = runner.invoke(
        app, ["validate-response", "/releases/249504", str(_write(tmp_path, body))]
    )
    assert result.exit_code == 1
    assert "/artists/0/id: " in result.output


def test_error_body_is_validated_for_its_status(tmp_path: Path) -> None:
    ok = runner.invoke(
        app,
        [
            "validate-response",
            "--status",
            "404",
            "/releases/1",
            str(_write(tmp_path, {"message": "Release not found."})),
        ],
    )
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        app,
        [
            "validate-response",
            "--status",
            "404",
            "/releases/1",
            str(_write(tmp_path, {"message": 404}, "bad.json")),
        ],
    )
    assert bad.exit_code == 1
    assert bad.output.startswith("/message: ")


def test_unknown_path_exits_2_with_reason(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate-response", "/no/such/thing", str(_write(tmp_path, {}))])
    assert result.exit_code == 2
    assert "no operation matches the path /no/such/thing" in result.output


def test_non_json_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_text("<html>oops</html>")
    result = runner.invoke(app, ["validate-response", "/releases/1", str(path)])
    assert result.exit_code == 2
    assert "is not JSON" in result.output


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate-response", "/releases/1", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_manifest_of_real_captures_is_all_valid() -> None:
    result = runner.invoke(app, ["validate-response", "--manifest", str(CAPTURES / "MANIFEST.tsv")])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"{len(lines) - 1} valid, 0 invalid"
    assert all(line.startswith("ok ") for line in lines[:-1])


def test_manifest_reports_each_invalid_body_and_exits_1(tmp_path: Path) -> None:
    body = _release_body()
    body["year"] = {"y": 1999}
    _write(tmp_path, body, "bad.json")
    _write(tmp_path, _release_body(), "good.json")
    (tmp_path / "m.tsv").write_text(
        "file\tmethod\tpath\tstatus\n"
        "good.json\tGET\t/releases/249504\t200\n"
        "bad.json\tGET\t/releases/249504\t200\n"
    )
    result = runner.invoke(app, ["validate-response", "--manifest", str(tmp_path / "m.tsv")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == "ok good.json"
    assert lines[1].startswith("invalid bad.json: /year: ")
    assert lines[-1] == "1 valid, 1 invalid"
