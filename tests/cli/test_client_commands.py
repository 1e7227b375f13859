"""`musicagent get | search | whoami | ratelimit | auth`: output, exit codes and hints."""

from __future__ import annotations

import json

import pytest
from pytest_httpx import HTTPXMock
from typer.testing import CliRunner

from musicagent.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()
BASE = "https://api.discogs.com"


def _example(name: str) -> object:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def test_get_release_prints_a_readable_view(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE}/releases/249504", json=_example("releases_get_200.json"))
    result = runner.invoke(app, ["get", "release", "249504", "--token", "cli-token-123"])
    assert result.exit_code == 0, result.output
    assert "Never Gonna Give You Up" in result.output
    assert "Tracklist" in result.output


def test_get_json_prints_only_json(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=_example("artists_get_200.json"))
    result = runner.invoke(app, ["get", "artist", "108713", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == 108713


def test_base_url_option_and_environment_variable_are_used(
    httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpx_mock.add_response(
        url="http://127.0.0.1:8765/labels/1", json=_example("labels_get_200.json")
    )
    monkeypatch.setenv("DISCOGS_BASE_URL", "http://127.0.0.1:8765")
    result = runner.invoke(app, ["get", "label", "1", "--json"])
    assert result.exit_code == 0, result.output


def test_not_found_is_one_line_with_exit_4(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=404, json={"message": "Release not found."})
    result = runner.invoke(app, ["get", "release", "999999999"])
    assert result.exit_code == 4
    assert "release 999999999 was not found" in result.output
    assert "Traceback" not in result.output


def test_bad_token_gives_a_hint_on_creating_one(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        status_code=401, json={"message": "You must authenticate to access this resource."}
    )
    result = runner.invoke(app, ["whoami", "--token", "wrong-token-1"])
    assert result.exit_code == 3
    assert "settings/developers" in result.output
    assert "wrong-token-1" not in result.output


def test_non_numeric_id_is_refused_before_sending(httpx_mock: HTTPXMock) -> None:
    result = runner.invoke(app, ["get", "release", "abc"])
    assert result.exit_code == 2
    assert "ID must be a positive whole number" in result.output
    assert httpx_mock.get_requests() == []


def test_unknown_kind_is_a_usage_error() -> None:
    result = runner.invoke(app, ["get", "song", "1"])
    assert result.exit_code == 2


def test_debug_shows_the_traceback(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=404, json={"message": "Release not found."})
    result = runner.invoke(app, ["get", "release", "5", "--debug"])
    assert result.exit_code != 0
    assert result.exception is not None


def test_search_prints_a_table_of_results(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=_example("database_search_get_200.json"))
    result = runner.invoke(app, ["search", "nirvana", "--type", "release", "--token", "t-123456"])
    assert result.exit_code == 0, result.output
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.params["q"] == "nirvana"
    assert request.url.params["type"] == "release"


def test_search_with_unknown_type_names_the_allowed_values(httpx_mock: HTTPXMock) -> None:
    result = runner.invoke(app, ["search", "x", "--type", "song"])
    assert result.exit_code == 2
    assert "release" in result.output and "label" in result.output


def test_whoami_prints_the_username(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=_example("oauth_identity_get_200.json"))
    result = runner.invoke(app, ["whoami", "--token", "cli-token-123"])
    assert result.exit_code == 0, result.output
    assert "example" in result.output


def test_ratelimit_reports_the_servers_budget(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        json=_example("oauth_identity_get_200.json"),
        headers={
            "X-Discogs-Ratelimit": "60",
            "X-Discogs-Ratelimit-Used": "7",
            "X-Discogs-Ratelimit-Remaining": "53",
        },
    )
    result = runner.invoke(app, ["ratelimit", "--token", "cli-token-123", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["limit"], data["remaining"]) == (60, 53)


def test_auth_login_without_consumer_credentials_explains_what_is_needed() -> None:
    result = runner.invoke(app, ["auth", "login"])
    assert result.exit_code == 3
    assert "consumer key" in result.output


def test_auth_logout_without_saved_tokens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    result = runner.invoke(app, ["auth", "logout"])
    assert result.exit_code == 0
    assert "No saved tokens" in result.output


def test_version_option_prints_the_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("musicagent ")
