"""`musicagent sandbox` refusals: missing extra, bad options, a port already taken."""

from __future__ import annotations

import signal
import socket
import sys

import pytest
from typer.testing import CliRunner

from musicagent.cli import app

runner = CliRunner()


def test_missing_sandbox_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("starlette", "uvicorn"):
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("discogs_sandbox.server", "discogs_sandbox.app"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    result = runner.invoke(app, ["sandbox"])
    assert result.exit_code == 1
    assert "pip install 'musicagent[sandbox]'" in result.output


def test_bad_fault_option_is_refused_before_serving() -> None:
    result = runner.invoke(app, ["sandbox", "--p-reset", "1.5"])
    assert result.exit_code == 2
    assert "p_reset must be a probability between 0 and 1" in result.output


def test_port_in_use_is_reported_and_signal_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGINT)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["sandbox", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert signal.getsignal(signal.SIGINT) is before


def test_a_short_rate_window_is_passed_on_to_the_client(capsys: pytest.CaptureFixture[str]) -> None:
    # Fidelity: Discogs sends no window header, so a client paced for 60 s looked frozen.
    from types import SimpleNamespace

    from discogs_sandbox import SandboxConfig
    from musicagent.cli.sandbox import _ready

    config = SandboxConfig(rate_limit=10, rate_window=5)
    _ready(SimpleNamespace(base_url="http://127.0.0.1:1", config=config))
    out = capsys.readouterr().out
    assert "DISCOGS_RATE_LIMIT_WINDOW=5" in out and "DISCOGS_RATE_LIMIT_REQUESTS=10" in out
    _ready(SimpleNamespace(base_url="http://127.0.0.1:1", config=SandboxConfig()))
    assert "DISCOGS_RATE_LIMIT_WINDOW" not in capsys.readouterr().out
