"""The `musicagent` command line: one typer app, one module per command group."""

from __future__ import annotations

from musicagent.cli import validate as _validate  # noqa: F401  (registers the command)
from musicagent.cli._app import app


def main() -> None:
    """Entry point of the `musicagent` console script."""
    app()


__all__ = ["app", "main"]
