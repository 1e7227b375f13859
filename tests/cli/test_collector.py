"""The command line pauses the cyclic collector while it loads and runs commands with it on.

Startup imports thousands of long-lived objects; collecting while they load, and walking them
again in every full collection of a long export, costs CPU for nothing (`cli/_collector.py`).
What users rely on: every command *runs* with the collector on (a long `sync` or `mcp` session
must not grow without bound), the startup heap is frozen out of later collections, and a
program that calls `main()` itself gets its collector back however the command ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from musicagent import cli
from musicagent.cli import _collector


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.enable()
    gc.set_threshold(*threshold)
    _collector._paused = False
    _collector._caller_threshold = None


def _run_main(monkeypatch: pytest.MonkeyPatch, *argv: str) -> int | str | None:
    monkeypatch.setattr("sys.argv", ["musicagent", *argv])
    try:
        cli.main()
    except SystemExit as done:
        return done.code
    return 0


def test_an_api_command_runs_with_the_collector_on_and_startup_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import musicagent.cli.api_call as api_call

    seen: dict[str, Any] = {}

    def record(command: object, values: object) -> None:
        seen["enabled"] = gc.isenabled()
        seen["frozen"] = gc.get_freeze_count()
        seen["threshold"] = gc.get_threshold()[0]

    monkeypatch.setattr(api_call, "run_command", record)
    assert _run_main(monkeypatch, "api", "database", "get-release", "1") == 0
    assert seen["enabled"] is True
    assert seen["frozen"] > 0
    # Room for a page of parsed items between young collections (see `_collector`).
    assert seen["threshold"] >= _collector.COMMAND_THRESHOLD
    assert gc.isenabled()


def test_a_typer_command_runs_with_the_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    real = _collector.resume

    def resume() -> None:
        seen["before"] = gc.isenabled()
        real()
        seen["after"] = gc.isenabled()

    monkeypatch.setattr(_collector, "resume", resume)
    assert _run_main(monkeypatch, "cache", "--help") == 0
    assert seen == {"before": False, "after": True}
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize(
    "argv",
    [("--version",), ("api", "no-such-group"), ("no-such-command",), ("api", "--help")],
)
def test_main_gives_the_collector_back_however_the_command_ends(
    monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    _run_main(monkeypatch, *argv)
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.disable()
    _run_main(monkeypatch, "--version")
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("argv", [("api", "database", "get-release", "1"), ("cache", "--help")])
def test_main_gives_the_caller_its_collector_thresholds_back(
    monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    import musicagent.cli.api_call as api_call

    monkeypatch.setattr(api_call, "run_command", lambda command, values: None)
    gc.set_threshold(650, 9, 8)
    _run_main(monkeypatch, *argv)
    assert gc.get_threshold() == (650, 9, 8)


def test_a_caller_threshold_above_the_commands_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    real = _collector.resume

    def resume() -> None:
        real()
        seen["threshold"] = gc.get_threshold()

    monkeypatch.setattr(_collector, "resume", resume)
    gc.set_threshold(50_000, 10, 10)
    _run_main(monkeypatch, "cache", "--help")
    assert seen["threshold"] == (50_000, 10, 10)
