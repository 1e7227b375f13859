"""The `musicagent` command line: one typer app, one module per command group."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from musicagent.cli import _collector

if TYPE_CHECKING:
    import typer

    app: typer.Typer
    """The typer application (loaded on first access)."""


COMMAND_MODULES: dict[str, str] = {
    "api": "api",
    "auth": "account",
    "cache": "cache",
    "doctor": "doctor",
    "export": "export",
    "get": "get",
    "mcp": "mcp",
    "ratelimit": "account",
    "sandbox": "sandbox",
    "search": "get",
    "sync": "sync",
    "validate-response": "validate",
    "value": "sync",
    "wants": "sync",
    "whoami": "account",
}
"""Each top-level command and the module under `musicagent.cli` that registers it."""


def _load_app(command: str | None = None) -> typer.Typer:
    # Importing a command module registers its commands on the app. A known command loads its
    # own module only; anything else (help, a typo) loads every command, so help lists them all.
    if command in COMMAND_MODULES:
        modules = [COMMAND_MODULES[command]]
    else:
        modules = sorted(set(COMMAND_MODULES.values()))
    for module in modules:
        importlib.import_module(f"musicagent.cli.{module}")
    from musicagent.cli._app import app

    return app


def __getattr__(name: str) -> Any:
    # `app` is built on first access: typer, rich and the commands load only when a command runs.
    if name == "app":
        return _load_app()
    raise AttributeError(f"module 'musicagent.cli' has no attribute {name!r}")


def main() -> None:
    """Entry point of the `musicagent` console script."""
    _collector.pause()  # see `_collector`: no cyclic collection while the modules load
    try:
        _dispatch(sys.argv[1:])
    finally:
        _collector.restore()


def _dispatch(args: list[str]) -> None:
    # `musicagent --version` answers from the version constant, before typer, rich and the
    # commands are imported: the whole process then costs about as much as Python starting.
    if args == ["--version"]:
        from musicagent._version import __version__

        sys.stdout.write(f"musicagent {__version__}\n")
        return
    # `musicagent api ...` is a click tree of its own: run it without typer and the other
    # commands, building only the command the line names.
    if args[:1] == ["api"]:
        from musicagent.cli.api_commands import main as api_main

        api_main(args[1:])  # it resumes collection once its command's modules are loaded
        return
    app = _load_app(args[0] if args else None)
    _collector.resume()
    app()


__all__ = ["COMMAND_MODULES", "app", "main"]
