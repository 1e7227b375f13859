"""`musicagent sandbox` serves until SIGINT or SIGTERM, printing its URL first."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
import pytest

from musicagent.validation import bundled_validator

pytestmark = pytest.mark.integration

_READY = re.compile(r"listening on (http://\S+) \(token: sandbox-token\)")


def _start(*options: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from musicagent.cli import main; main()", "sandbox", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = _READY.search(line)
    if found is None:
        process.kill()
        pytest.fail(f"no ready line: {line!r} {process.stderr.read() if process.stderr else ''}")
    return process, found.group(1)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_serves_valid_bodies_and_stops_cleanly(signum: signal.Signals) -> None:
    process, url = _start("--port", "0", "--collection-size", "10", "--seed", "3")
    try:
        response = httpx.get(f"{url}/releases/1", headers={"User-Agent": "x"}, timeout=10)
        _, problems = bundled_validator().validate_response(
            "GET", "/releases/1", response.status_code, response.json()
        )
        process.send_signal(signum)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert response.status_code == 200 and problems == []
    assert process.returncode == 0, err
    assert "Discogs sandbox stopped." in out
    assert "Traceback" not in err


def test_cli_refuses_bad_fault_options_naming_them() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from musicagent.cli import main; main()", "sandbox", "--p5xx", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "p5xx must be a probability" in result.stderr
