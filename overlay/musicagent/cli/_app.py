"""The typer application object shared by every command module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="musicagent",
    help="MusicAgent: the Discogs API from your terminal — get, search, export, validate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """MusicAgent: the Discogs API from your terminal."""
