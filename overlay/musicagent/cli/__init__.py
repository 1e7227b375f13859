"""The `musicagent` command line: one typer app, one module per command group."""

from __future__ import annotations

# Importing a command module registers its commands on the app.
from musicagent.cli import account as _account  # noqa: F401
from musicagent.cli import api as _api  # noqa: F401
from musicagent.cli import cache as _cache  # noqa: F401
from musicagent.cli import doctor as _doctor  # noqa: F401
from musicagent.cli import export as _export  # noqa: F401
from musicagent.cli import get as _get  # noqa: F401
from musicagent.cli import mcp as _mcp  # noqa: F401
from musicagent.cli import sandbox as _sandbox  # noqa: F401
from musicagent.cli import validate as _validate  # noqa: F401
from musicagent.cli._app import app


def main() -> None:
    """Entry point of the `musicagent` console script."""
    app()


__all__ = ["app", "main"]
