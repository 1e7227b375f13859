"""`musicagent api`: the typer entry of the generated command tree (`api_commands`)."""

from __future__ import annotations

import typer

from musicagent.cli._app import app
from musicagent.cli.api_commands import main


@app.command(
    "api",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def api(ctx: typer.Context) -> None:
    """Every Discogs operation as a command (musicagent api GROUP OPERATION --help)."""
    main(ctx.args)
