"""`pytest --discogs-validate-responses`: a user's test that received an invalid Discogs body
fails, even when the code under test caught the error; valid bodies and opted-out tests pass."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import EXAMPLES

USER_SUITE = """
import json
import httpx
import pytest
from musicagent import Discogs, RateLimiter, ResponseValidationError, RetryPolicy

RELEASE = json.loads({release!r})


def _client(body):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    return Discogs(
        transport=transport,
        cache=False,
        retry_policy=RetryPolicy(max_attempts=1, backoff_factor=0),
        rate_limiter=RateLimiter(60, 60),
    )


def test_valid_body():
    with _client(RELEASE) as client:
        assert client.database.get_release(249504).id == 249504


def test_invalid_body_swallowed_by_the_code_under_test():
    with _client({{**RELEASE, "tracklist": "A1"}}) as client:
        try:
            client.database.get_release(249504)
        except ResponseValidationError:
            pass


def test_undocumented_status_strict_for_the_run():
    transport = httpx.MockTransport(lambda request: httpx.Response(202, json=RELEASE))
    with Discogs(transport=transport, cache=False) as client:
        try:
            client.database.get_release(249504)
        except ResponseValidationError:
            pass


@pytest.mark.discogs_allow_invalid_responses
def test_opted_out():
    with _client({{**RELEASE, "tracklist": "A1"}}) as client:
        with pytest.raises(ResponseValidationError):
            client.database.get_release(249504)
"""


def _run(tmp_path: Path, *args: str, ini: str = "") -> subprocess.CompletedProcess[str]:
    release = (EXAMPLES / "releases_get_200.json").read_text(encoding="utf-8")
    json.loads(release)
    (tmp_path / "test_user_suite.py").write_text(USER_SUITE.format(release=release))
    (tmp_path / "pytest.ini").write_text(textwrap.dedent(f"[pytest]\n{ini}\n"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_option_fails_exactly_the_tests_that_received_invalid_bodies(tmp_path: Path) -> None:
    result = _run(tmp_path, "--discogs-validate-responses")
    out = result.stdout
    assert result.returncode == 1, out
    assert "PASSED test_user_suite.py::test_valid_body" in out
    assert "FAILED test_user_suite.py::test_invalid_body_swallowed_by_the_code_under_test" in out
    assert "FAILED test_user_suite.py::test_undocumented_status_strict_for_the_run" in out
    assert "PASSED test_user_suite.py::test_opted_out" in out
    assert "get_release at /tracklist" in out


def test_the_ini_setting_turns_it_on(tmp_path: Path) -> None:
    result = _run(tmp_path, ini="discogs_validate_responses = true")
    assert "2 failed, 2 passed" in result.stdout, result.stdout


def test_without_the_option_nothing_changes(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "4 passed" in result.stdout
