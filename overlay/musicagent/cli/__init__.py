"""The `musicagent` command line: one typer app, one module per command group."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

    app: typer.Typer
    """The typer application (loaded on first access)."""


def _load_app() -> typer.Typer:
    # Importing a command module registers its commands on the app.
    from musicagent.cli import account as _account  # noqa: F401
    from musicagent.cli import api as _api  # noqa: F401
    from musicagent.cli import cache as _cache  # noqa: F401
    from musicagent.cli import doctor as _doctor  # noqa: F401
    from musicagent.cli import export as _export  # noqa: F401
    from musicagent.cli import get as _get  # noqa: F401
    from musicagent.cli import mcp as _mcp  # noqa: F401
    from musicagent.cli import sandbox as _sandbox  # noqa: F401
    from musicagent.cli import sync as _sync  # noqa: F401
    from musicagent.cli import validate as _validate  # noqa: F401
    from musicagent.cli._app import app

    return app


def __getattr__(name: str) -> Any:
    # `app` is built on first access: typer, rich and the commands load only when a command runs.
    if name == "app":
        return _load_app()
    raise AttributeError(f"module 'musicagent.cli' has no attribute {name!r}")


def main() -> None:
    """Entry point of the `musicagent` console script."""
    # `musicagent --version` answers from the version constant, before typer, rich and the
    # commands are imported: the whole process then costs about as much as Python starting.
    if sys.argv[1:] == ["--version"]:
        from musicagent._version import __version__

        sys.stdout.write(f"musicagent {__version__}\n")
        return
    _load_app()()


__all__ = ["app", "main"]
