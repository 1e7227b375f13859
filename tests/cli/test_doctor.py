"""`musicagent doctor`: one report, and a non-zero exit on a problem."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pytest_httpx import HTTPXMock
from typer.testing import CliRunner

from musicagent.cli import app

runner = CliRunner()
IDENTITY = {
    "id": 1,
    "username": "sandbox",
    "consumer_name": "app",
    "resource_url": "https://api.discogs.com/users/sandbox",
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


def test_a_good_setup_reports_ok_and_never_shows_the_token(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=IDENTITY)
    result = runner.invoke(app, ["doctor", "--json", "--token", "doctor-token-123"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["credential"]["status"] == "ok" and "sandbox" in checks["credential"]["detail"]
    token = next(r for r in report["settings"] if r["name"] == "token")
    assert token == {"name": "token", "value": "set", "source": "--token"}
    assert "doctor-token-123" not in result.output


def test_refused_credentials_exit_3(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=401, json={"message": "You must authenticate."})
    result = runner.invoke(app, ["doctor", "--token", "wrong-token-123"])
    assert result.exit_code == 3
    assert "PROBLEM" in result.output


def test_a_credentials_file_readable_by_others_is_a_problem(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(json=IDENTITY)
    stored = tmp_path / "config" / "musicagent" / "credentials.json"
    stored.parent.mkdir(parents=True)
    stored.write_text("{}")
    os.chmod(stored, 0o644)
    result = runner.invoke(app, ["doctor", "--json", "--token", "doctor-token-123"])
    assert result.exit_code == 1
    modes = [c for c in json.loads(result.stdout)["checks"] if c["name"] == "file mode"]
    assert any(c["status"] == "problem" and "credentials.json" in c["detail"] for c in modes)
