"""The rough edges a new user hits: errors in command-line words, one line, the documented
exit codes; checks before the first request; what the CLI uses and why."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from typer.testing import CliRunner

from musicagent.auth import AccessToken, TokenStore
from musicagent.cli import app
from musicagent.cli.progress import ExportProgress
from musicagent.ratelimit import RateLimitStatus
from tests.conftest import EXAMPLES

runner = CliRunner()
BASE = "https://api.discogs.com"
TOKEN = "cli-token-123456"
WANTS = f"{BASE}/users/rodney/wants"


@pytest.fixture(autouse=True)
def _own_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test in a folder of its own (its own .env, no saved login of the developer)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def _wants_page(count: int = 1) -> dict[str, Any]:
    return {
        "pagination": {"page": 1, "pages": 1, "per_page": 100, "items": count, "urls": {}},
        "wants": [
            {"id": n, "basic_information": {"id": n, "title": f"t{n}"}} for n in range(count)
        ],
    }


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("DISCOGS_RATE_LIMIT_REQUESTS", "abc", "a whole number"),
        ("DISCOGS_CACHE", "maybe", "on, off"),
        ("DISCOGS_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("DISCOGS_TIMEOUT", "-1", "more than 0"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_with_exit_2(
    httpx_mock: HTTPXMock, variable: str, value: str, allowed: str
) -> None:
    result = runner.invoke(app, ["get", "release", "1"], env={variable: value})

    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {variable}={value} is not valid")
    assert allowed in lines[0]
    assert "pydantic" not in result.output and "errors.pydantic.dev" not in result.output
    assert httpx_mock.get_requests() == []


def test_a_bad_setting_from_dotenv_says_so(httpx_mock: HTTPXMock) -> None:
    Path(".env").write_text("DISCOGS_MAX_RETRIES=lots\n", encoding="utf-8")

    result = runner.invoke(app, ["get", "release", "1"])

    assert result.exit_code == 2
    assert "DISCOGS_MAX_RETRIES=lots (from .env) is not valid" in result.output


def test_a_dotenv_that_is_not_utf8_is_named(httpx_mock: HTTPXMock) -> None:
    Path(".env").write_bytes(b"DISCOGS_USER_AGENT=caf\xe9/1.0\n")

    result = runner.invoke(app, ["get", "release", "1"])

    assert result.exit_code == 2
    assert ".env" in result.output and "not UTF-8" in result.output
    assert "UnicodeDecodeError" not in result.output


# --- the base-URL rule ----------------------------------------------------------------------------


def test_a_dotenv_base_url_never_receives_a_token_from_the_environment(
    httpx_mock: HTTPXMock,
) -> None:
    Path(".env").write_text("DISCOGS_BASE_URL=https://evil.example\n", encoding="utf-8")

    result = runner.invoke(app, ["get", "release", "1"], env={"DISCOGS_TOKEN": TOKEN})

    assert result.exit_code == 2
    assert "DISCOGS_BASE_URL=https://evil.example comes from a .env file" in result.output
    assert "--trust-env-file" in result.output
    assert httpx_mock.get_requests() == []


def test_a_dotenv_base_url_is_refused_for_a_token_option_and_a_saved_login(
    httpx_mock: HTTPXMock,
) -> None:
    Path(".env").write_text("DISCOGS_BASE_URL=https://evil.example\n", encoding="utf-8")
    assert runner.invoke(app, ["whoami", "--token", TOKEN]).exit_code == 2
    TokenStore().save(AccessToken("t", "ts"), consumer_key="k", consumer_secret="s")
    assert runner.invoke(app, ["whoami"]).exit_code == 2
    assert httpx_mock.get_requests() == []


def test_a_dotenv_base_url_is_used_when_confirmed(httpx_mock: HTTPXMock) -> None:
    Path(".env").write_text("DISCOGS_BASE_URL=https://mirror.example\n", encoding="utf-8")
    httpx_mock.add_response(
        url="https://mirror.example/releases/1", json=_example("releases_get_200.json")
    )

    result = runner.invoke(
        app, ["get", "release", "1", "--json", "--trust-env-file"], env={"DISCOGS_TOKEN": TOKEN}
    )

    assert result.exit_code == 0, result.output


def test_the_confirmation_itself_is_never_read_from_dotenv(httpx_mock: HTTPXMock) -> None:
    Path(".env").write_text(
        "DISCOGS_BASE_URL=https://evil.example\nDISCOGS_TRUST_ENV_FILE=1\n", encoding="utf-8"
    )

    result = runner.invoke(app, ["get", "release", "1"], env={"DISCOGS_TOKEN": TOKEN})

    assert result.exit_code == 2
    assert httpx_mock.get_requests() == []


def test_a_base_url_from_the_command_line_needs_no_confirmation(httpx_mock: HTTPXMock) -> None:
    Path(".env").write_text("DISCOGS_BASE_URL=https://evil.example\n", encoding="utf-8")
    httpx_mock.add_response(
        url="http://127.0.0.1:8765/releases/1", json=_example("releases_get_200.json")
    )

    result = runner.invoke(
        app,
        ["get", "release", "1", "--json", "--base-url", "http://127.0.0.1:8765"],
        env={"DISCOGS_TOKEN": TOKEN},
    )

    assert result.exit_code == 0, result.output


# --- logging -------------------------------------------------------------------------------------


def test_the_cli_logs_as_the_settings_say(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    httpx_mock.add_response(json=_example("releases_get_200.json"))
    logs = tmp_path / "logs"

    result = runner.invoke(
        app,
        ["get", "release", "249504", "--json", "--token", TOKEN],
        env={"DISCOGS_LOG_DIR": str(logs), "DISCOGS_LOG_LEVEL": "DEBUG"},
    )

    assert result.exit_code == 0, result.output
    text = (logs / "musicagent.log").read_text(encoding="utf-8")
    assert "/releases/249504" in text
    assert TOKEN not in text


# --- credentials ---------------------------------------------------------------------------------


def test_whoami_without_any_credential_says_so_before_sending(httpx_mock: HTTPXMock) -> None:
    result = runner.invoke(app, ["whoami"])

    assert result.exit_code == 3
    assert "none are configured" in result.output
    assert "refused" not in result.output
    assert httpx_mock.get_requests() == []


def test_auth_login_saves_the_consumer_key_so_later_commands_can_sign(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(
        url=f"{BASE}/oauth/request_token",
        text="oauth_token=req&oauth_token_secret=reqsecret&oauth_callback_confirmed=true",
    )
    httpx_mock.add_response(
        url=f"{BASE}/oauth/access_token",
        method="POST",
        text="oauth_token=acc-token&oauth_token_secret=acc-secret",
    )
    httpx_mock.add_response(
        url=f"{BASE}/oauth/identity", json=_example("oauth_identity_get_200.json"), is_reusable=True
    )

    login = runner.invoke(
        app,
        [
            "auth",
            "login",
            "--consumer-key",
            "app-key",
            "--consumer-secret",
            "app-secret",
            "--verifier",
            "1234",
        ],
    )
    assert login.exit_code == 0, login.output
    saved = Path(os.environ["XDG_CONFIG_HOME"]) / "musicagent" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600

    status = runner.invoke(app, ["auth", "status"], env={"COLUMNS": "200"})
    whoami = runner.invoke(app, ["whoami"])

    assert status.exit_code == 0, status.output
    assert "OAuth 1.0a access token (saved by `musicagent auth login`)" in status.output
    assert "TokenAuth(" not in status.output and "OAuth1Auth(" not in status.output
    assert whoami.exit_code == 0, whoami.output
    signed = httpx_mock.get_requests(url=f"{BASE}/oauth/identity")[-1]
    assert 'oauth_consumer_key="app-key"' in signed.headers["Authorization"]
    assert 'oauth_token="acc-token"' in signed.headers["Authorization"]


def test_auth_status_says_where_the_token_comes_from(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=_example("oauth_identity_get_200.json"))

    result = runner.invoke(app, ["auth", "status"], env={"DISCOGS_TOKEN": TOKEN, "COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "Credential: personal access token (from --token or DISCOGS_TOKEN)" in result.output


def test_a_refused_consumer_key_gets_the_consumer_key_hint(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=401, json={"message": "Invalid consumer key."})

    result = runner.invoke(
        app,
        ["get", "release", "1"],
        env={"DISCOGS_CONSUMER_KEY": "bad", "DISCOGS_CONSUMER_SECRET": "bad-secret"},
    )

    assert result.exit_code == 3
    assert "DISCOGS_CONSUMER_KEY" in result.output
    assert "personal access token at" not in result.output


# --- small things --------------------------------------------------------------------------------


def test_a_negative_id_is_refused_in_words(httpx_mock: HTTPXMock) -> None:
    result = runner.invoke(app, ["get", "release", "-1"])

    assert result.exit_code == 2
    assert "ID must be a positive whole number" in result.output
    assert "No such option" not in result.output
    assert httpx_mock.get_requests() == []


def test_hints_never_repeat_the_error(httpx_mock: HTTPXMock) -> None:
    result = runner.invoke(app, ["get", "release", "abc"])

    assert "hint: allowed: 1, 2, …" not in result.output


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--format", "json", "--excel"], "--excel"),
        (["--format", "csv", "--compact"], "--compact"),
        (["--format", "jsonl", "--no-formula-guard"], "--no-formula-guard"),
    ],
)
def test_an_option_of_another_format_is_refused(
    httpx_mock: HTTPXMock, args: list[str], flag: str
) -> None:
    result = runner.invoke(app, ["export", "wantlist", "rodney", *args, "--token", TOKEN])

    assert result.exit_code == 2
    assert f"{flag} applies to --format" in result.output
    assert httpx_mock.get_requests() == []


def test_the_summary_says_1_request_not_1_requests(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=_wants_page(1))

    result = runner.invoke(
        app,
        ["export", "wantlist", "rodney", "-f", "jsonl", "-o", "w.jsonl", "--token", TOKEN],
        env={"COLUMNS": "300"},
    )

    assert result.exit_code == 0, result.output
    assert "Exported 1 item to w.jsonl" in result.output
    assert "1 request," in result.output and "1 requests" not in result.output


def test_dash_writes_the_export_to_standard_output(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    httpx_mock.add_response(json=_wants_page(3))

    result = runner.invoke(
        app, ["export", "wantlist", "rodney", "-f", "jsonl", "-o", "-", "--token", TOKEN]
    )

    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [0, 1, 2]
    assert not (tmp_path / "-").exists()


def test_a_missing_export_dir_is_an_error_not_created(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    missing = tmp_path / "no" / "such" / "dir"

    result = runner.invoke(
        app,
        ["export", "wantlist", "rodney", "--token", TOKEN],
        env={"DISCOGS_EXPORT_DIR": str(missing)},
    )

    assert result.exit_code == 2
    assert "DISCOGS_EXPORT_DIR" in result.output
    assert not missing.parent.exists()
    assert httpx_mock.get_requests() == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_export_dir_the_cli_creates_is_0700(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    httpx_mock.add_response(json=_wants_page(1))
    folder = tmp_path / "exports"

    result = runner.invoke(
        app,
        ["export", "wantlist", "rodney", "-f", "csv", "--token", TOKEN],
        env={"DISCOGS_EXPORT_DIR": str(folder)},
    )

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "wantlist-rodney.csv").stat().st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_destination_is_refused_before_the_first_request(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)

    result = runner.invoke(
        app, ["export", "wantlist", "rodney", "-o", str(folder / "w.csv"), "--token", TOKEN]
    )

    assert result.exit_code == 6
    assert "permission denied" in result.output
    assert httpx_mock.get_requests() == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_cache_folder_suggests_no_cache(httpx_mock: HTTPXMock, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o500)

    result = runner.invoke(app, ["get", "release", "1"], env={"DISCOGS_CACHE_DIR": str(cache)})

    assert result.exit_code == 6
    assert "--no-cache" in result.output
    assert httpx_mock.get_requests() == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_a_local_error_naming_the_path(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=_wants_page(3))

    result = runner.invoke(
        app, ["export", "wantlist", "rodney", "-f", "jsonl", "-o", "/dev/full", "--token", TOKEN]
    )

    assert result.exit_code == 6, result.output
    assert "'/dev/full'" in result.output and "No space left on device" in result.output
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written through, never replaced


def test_a_full_disk_with_a_checkpoint_says_resume_will_finish(
    httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = 3
    for number in range(1, pages):  # page 2 fails to be written: page 3 is never asked for
        body = _wants_page(2)
        body["pagination"].update(page=number, pages=pages, items=6)
        body["wants"] = [{"id": number * 10 + n, "basic_information": {"id": n}} for n in range(2)]
        httpx_mock.add_response(url=f"{WANTS}?page={number}&per_page=100", json=body)
    import errno

    import musicagent.export.job as job_module

    real = job_module.write_records

    def full_on_page_2(handle: Any, encoder: Any, records: Any, *, start: int) -> int:
        if start == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(handle, encoder, records, start=start)

    monkeypatch.setattr(job_module, "write_records", full_on_page_2)
    result = runner.invoke(
        app,
        ["export", "wantlist", "rodney", "-f", "csv", "-o", "w.csv", "--token", TOKEN],
        env={"COLUMNS": "300"},
    )

    assert result.exit_code == 6
    assert "No space left on device" in result.output and "w.csv.partial" in result.output
    assert "--resume" in result.output


def test_resume_errors_speak_command_line_words(httpx_mock: HTTPXMock) -> None:
    Path("w.csv.checkpoint.json").write_text(
        json.dumps(
            {
                "version": 1,
                "kind": "wantlist",
                "query": {"args": ["rodney"]},
                "format": "csv",
                "options_hash": "x",
                "destination": "w.csv",
                "partial_path": "w.csv.partial",
            }
        ),
        encoding="utf-8",
    )

    result = runner.invoke(
        app,
        ["export", "wantlist", "rodney", "-o", "w.csv", "--resume", "--token", TOKEN],
        env={"COLUMNS": "300"},
    )

    assert result.exit_code == 6
    assert "resume=False" not in result.output and "allowed: ['False']" not in result.output
    assert "--restart" in result.output


def test_a_checkpoint_is_never_discarded_without_being_asked(httpx_mock: HTTPXMock) -> None:
    Path("w.csv.checkpoint.json").write_text("{}", encoding="utf-8")

    result = runner.invoke(app, ["export", "wantlist", "rodney", "-o", "w.csv", "--token", TOKEN])

    assert result.exit_code == 2
    assert "--resume" in result.output and "--restart" in result.output
    assert Path("w.csv.checkpoint.json").exists()
    assert httpx_mock.get_requests() == []


def test_restart_starts_over(httpx_mock: HTTPXMock) -> None:
    Path("w.csv.checkpoint.json").write_text("{}", encoding="utf-8")
    httpx_mock.add_response(json=_wants_page(2))

    result = runner.invoke(
        app, ["export", "wantlist", "rodney", "-o", "w.csv", "--restart", "--token", TOKEN]
    )

    assert result.exit_code == 0, result.output
    assert not Path("w.csv.checkpoint.json").exists()


def test_an_error_on_the_first_page_leaves_no_empty_progress_bar(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        status_code=404, json={"message": "User does not exist or may have been deleted."}
    )

    result = runner.invoke(app, ["export", "wantlist", "nobody", "-o", "w.csv", "--token", TOKEN])

    assert result.exit_code == 4
    assert "0/?" not in result.output


def test_an_unknown_status_is_refused_before_any_request(httpx_mock: HTTPXMock) -> None:
    result = runner.invoke(
        app, ["export", "inventory", "shop", "--status", "Bogus", "-o", "i.csv", "--token", TOKEN]
    )

    assert result.exit_code == 2
    assert "0/?" not in result.output
    assert httpx_mock.get_requests() == []


def test_a_refused_connection_is_one_clear_line(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"), is_reusable=True)

    result = runner.invoke(
        app,
        ["get", "release", "1", "--base-url", "http://127.0.0.1:9"],
        env={"DISCOGS_MAX_RETRIES": "0", "COLUMNS": "300"},
    )

    assert result.exit_code == 5
    assert _error_lines(result.output) == [
        line for line in result.output.splitlines() if "could not reach" in line
    ]
    assert "Connection refused" in result.output


# --- progress ------------------------------------------------------------------------------------


def test_the_progress_bar_shows_the_wait_for_the_rate_limit() -> None:
    from rich.console import Console

    now = [0.0]
    rate = [RateLimitStatus(limit=60, used=60, remaining=0, window=60.0, next_free_in=12.0)]
    progress = ExportProgress(
        "wantlist x", lambda: rate[0], Console(file=io.StringIO()), clock=lambda: now[0]
    )
    with progress:
        progress.update(100, 1000, 1, 10)
        assert progress.status_text() == "waiting for rate limit 12 s"
        rate[0] = RateLimitStatus(limit=60, used=1, remaining=59, window=60.0, next_free_in=0.0)
        now[0] = 1.0
        first = progress.status_text()
        now[0] = 4.0
        later = progress.status_text()
    assert first.startswith("ETA") and later.startswith("ETA") and first != later  # live


def test_readable_views_ask_for_plain_text_not_discogs_markup(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=_example("labels_get_200.json"), is_reusable=True)

    assert runner.invoke(app, ["get", "label", "1"]).exit_code == 0
    assert runner.invoke(app, ["get", "label", "1", "--json"]).exit_code == 0

    view, raw = httpx_mock.get_requests()
    assert view.headers["Accept"] == "application/vnd.discogs.v2.plaintext+json"
    assert raw.headers["Accept"] == "application/vnd.discogs.v2.discogs+json"
