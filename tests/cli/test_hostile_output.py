"""Server text in every CLI view: rich markup is shown, never obeyed; escape sequences never
reach the terminal; no hidden links."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpx import HTTPXMock
from typer.testing import CliRunner

from musicagent.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()
BASE = "https://api.discogs.com"
TOKEN = "cli-token-123456"

#: Rich markup that crashes or hides things, plus terminal escapes: window title (OSC 0),
#: clipboard write (OSC 52), clear screen (CSI 2J), an 8-bit CSI, a bidirectional override.
PAYLOAD = (
    "[/bold]x [link=https://evil.example]Play[/link] [/red]"
    "\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\u009b31m\u202eesrever"
)
CONTROL = ("\x1b", "\x07", "\u009b", "\u202e")


@pytest.fixture(autouse=True)
def _no_saved_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def _poison(value: Any) -> Any:
    """Every string of a body replaced by the payload (ids and numbers kept)."""
    if isinstance(value, dict):
        return {
            k: (v if k in ("id", "uri", "resource_url") else _poison(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_poison(v) for v in value]
    if isinstance(value, str):
        return PAYLOAD
    return value


def _assert_harmless(output: str) -> None:
    assert "Traceback" not in output and "MarkupError" not in output
    for control in CONTROL:
        assert control not in output, repr(control)
    assert "evil.example" in output  # shown as text, not hidden behind "Play"


@pytest.mark.parametrize(
    ("kind", "ident", "example"),
    [
        ("release", "249504", "releases_get_200.json"),
        ("master", "1000", "masters_get_200.json"),
        ("artist", "108713", "artists_get_200.json"),
        ("label", "1", "labels_get_200.json"),
        ("listing", "172723812", "marketplace_listing_get_200.json"),
        ("order", "1-1", "marketplace_order_get_200.json"),
    ],
)
def test_get_views_show_markup_and_escapes_as_harmless_text(
    httpx_mock: HTTPXMock, kind: str, ident: str, example: str
) -> None:
    httpx_mock.add_response(json=_poison(copy.deepcopy(_example(example))))

    result = runner.invoke(app, ["get", kind, ident, "--token", TOKEN], env={"COLUMNS": "250"})

    assert result.exit_code == 0, result.output
    _assert_harmless(result.output)
    assert "[/bold]x" in result.output


def test_search_table_shows_markup_as_text(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=_poison(_example("database_search_get_200.json")))

    result = runner.invoke(app, ["search", "x", "--token", TOKEN], env={"COLUMNS": "400"})

    assert result.exit_code == 0, result.output
    _assert_harmless(result.output)


def test_whoami_and_auth_status_show_a_hostile_username_as_text(httpx_mock: HTTPXMock) -> None:
    identity = {**_example("oauth_identity_get_200.json"), "username": PAYLOAD}
    httpx_mock.add_response(json=identity, is_reusable=True)

    for command in (["whoami"], ["auth", "status"]):
        result = runner.invoke(app, [*command, "--token", TOKEN], env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        _assert_harmless(result.output)


def test_a_hostile_error_message_is_one_harmless_line(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=404, json={"message": PAYLOAD})

    result = runner.invoke(app, ["get", "release", "5", "--token", TOKEN], env={"COLUMNS": "400"})

    assert result.exit_code == 4
    _assert_harmless(result.output)


def test_json_output_escapes_c1_controls_but_means_the_same(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={**_example("releases_get_200.json"), "title": PAYLOAD})

    result = runner.invoke(app, ["get", "release", "249504", "--json"])

    assert result.exit_code == 0, result.output
    for control in CONTROL:
        assert control not in result.stdout
    assert json.loads(result.stdout)["title"] == PAYLOAD


def test_export_progress_and_summary_survive_a_markup_username(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    user = "[/bold]x"
    httpx_mock.add_response(
        json={
            "pagination": {"page": 1, "pages": 1, "per_page": 100, "items": 1, "urls": {}},
            "wants": [{"id": 1, "basic_information": {"id": 1, "title": PAYLOAD}}],
        }
    )

    result = runner.invoke(
        app,
        [
            "export",
            "wantlist",
            user,
            "--format",
            "jsonl",
            "--out",
            str(tmp_path / "w.jsonl"),
            "--token",
            TOKEN,
        ],
    )

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert json.loads((tmp_path / "w.jsonl").read_text())["basic_information"]["title"] == PAYLOAD
