"""`musicagent cache info|clear` and a cached second call sending nothing."""

from __future__ import annotations

import json

from pytest_httpx import HTTPXMock
from typer.testing import CliRunner

from musicagent.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def test_second_identical_get_is_served_from_the_cache(httpx_mock: HTTPXMock) -> None:
    body = json.loads((EXAMPLES / "releases_get_200.json").read_text())
    httpx_mock.add_response(json=body)
    first = runner.invoke(app, ["get", "release", "249504", "--json", "--token", "tok-12345678"])
    second = runner.invoke(app, ["get", "release", "249504", "--json", "--token", "tok-12345678"])
    assert first.exit_code == second.exit_code == 0, second.output
    assert json.loads(first.stdout) == json.loads(second.stdout)
    assert len(httpx_mock.get_requests()) == 1


def test_no_cache_option_sends_the_request_again(httpx_mock: HTTPXMock) -> None:
    body = json.loads((EXAMPLES / "releases_get_200.json").read_text())
    httpx_mock.add_response(json=body, is_reusable=True)
    for _ in range(2):
        result = runner.invoke(app, ["get", "release", "249504", "--json", "--no-cache"])
        assert result.exit_code == 0, result.output
    assert len(httpx_mock.get_requests()) == 2


def test_cache_info_and_clear(httpx_mock: HTTPXMock) -> None:
    body = json.loads((EXAMPLES / "releases_get_200.json").read_text())
    httpx_mock.add_response(json=body)
    runner.invoke(app, ["get", "release", "249504", "--json"])
    info = runner.invoke(app, ["cache", "info", "--json"])
    assert info.exit_code == 0, info.output
    assert json.loads(info.stdout)["entries"] == 1
    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0
    assert "Removed 1 cached responses." in cleared.output
    assert json.loads(runner.invoke(app, ["cache", "info", "--json"]).stdout)["entries"] == 0
