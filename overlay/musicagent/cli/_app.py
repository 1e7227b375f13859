"""The typer application object shared by every command module."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="musicagent",
    help="MusicAgent: the Discogs API from your terminal — get, search, export, validate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from musicagent import __version__

        typer.echo(f"musicagent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """MusicAgent: the Discogs API from your terminal."""
