"""`validate-response --report-unknown` (the drift signal) and error bodies that need a message."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from musicagent.cli import app
from tests.conftest import CAPTURES, EXAMPLES

runner = CliRunner()


def _write(tmp_path: Path, body: object) -> str:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def test_report_unknown_names_every_undescribed_field_with_list_items_as_stars(
    tmp_path: Path,
) -> None:
    body = json.loads((EXAMPLES / "releases_get_200.json").read_text(encoding="utf-8"))
    body["brand_new"] = 1
    for track in body["tracklist"]:
        track["bpm"] = 120
    body["community"]["rating"]["median"] = 4
    result = runner.invoke(
        app, ["validate-response", "--report-unknown", "/releases/249504", _write(tmp_path, body)]
    )
    assert result.exit_code == 0, result.output  # drift is news, not a failure
    lines = result.output.splitlines()
    assert "unknown get_release /brand_new (1 body)" in lines
    assert "unknown get_release /community/rating/median (1 body)" in lines
    assert "unknown get_release /tracklist/*/bpm (1 body)" in lines
    assert "3 undescribed fields: describe them in spec/discogs.yaml" in lines


def test_report_unknown_on_the_real_captures_finds_no_drift() -> None:
    result = runner.invoke(
        app, ["validate-response", "--manifest", str(CAPTURES / "MANIFEST.tsv"), "--report-unknown"]
    )
    assert result.exit_code == 0, result.output
    assert "unknown " not in result.output


def test_map_members_are_not_unknown(tmp_path: Path) -> None:
    body = json.loads(
        (EXAMPLES / "marketplace_price_suggestions_get_200.json").read_text(encoding="utf-8")
    )
    result = runner.invoke(
        app,
        [
            "validate-response",
            "--report-unknown",
            "/marketplace/price_suggestions/1",
            _write(tmp_path, body),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "unknown" not in result.output


def test_status_404_needs_an_error_message(tmp_path: Path) -> None:
    refused = runner.invoke(
        app, ["validate-response", "--status", "404", "/releases/1", _write(tmp_path, {"id": 1})]
    )
    assert refused.exit_code == 1
    assert "message" in refused.output
    accepted = runner.invoke(
        app,
        [
            "validate-response",
            "--status",
            "404",
            "/releases/1",
            _write(tmp_path, {"message": "Release not found."}),
        ],
    )
    assert accepted.exit_code == 0, accepted.output
