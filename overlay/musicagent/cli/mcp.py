"""`musicagent mcp`: serve the Discogs API to an AI agent over MCP (stdio, or HTTP on loopback)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from musicagent.cli._app import app
from musicagent.cli._options import (
    EXIT_BAD_INPUT,
    BaseUrlOption,
    DebugOption,
    NoCacheOption,
    TokenOption,
    fail,
    reported,
)

DEFAULT_PORT = 8765


def _async_client(base_url: str | None, token: str | None, no_cache: bool) -> Any:
    from musicagent.async_client import AsyncDiscogs
    from musicagent.auth import TokenStore
    from musicagent.settings import DiscogsSettings

    overrides: dict[str, Any] = {"cache": "off"} if no_cache else {}
    settings = DiscogsSettings(**overrides)
    oauth = None
    if token is None and settings.token is None and settings.consumer_key is not None:
        oauth = TokenStore().load()
    return AsyncDiscogs(token, base_url=base_url, settings=settings, oauth=oauth)


@app.command("mcp")
def mcp_command(
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP on loopback instead of stdio.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Loopback address for --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port for --http.")] = DEFAULT_PORT,
    allow_writes: Annotated[
        bool,
        typer.Option(
            "--allow-writes",
            help="Also offer the operations that change your account (rate, edit, delete, …).",
        ),
    ] = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> None:
    """Serve every Discogs operation as an MCP tool for AI agents (reads only by default).

    An MCP client starts it as a command (stdio); with --http it listens on
    http://127.0.0.1:8765/mcp. Tools are paced under your rate limit and cached.

    Examples:

      musicagent mcp

      musicagent mcp --allow-writes

      musicagent mcp --http --port 8765
    """
    import anyio

    try:
        from musicagent.mcp import server
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "mcp":
            from musicagent.mcp import INSTALL_HINT

            fail("the mcp package is not installed", INSTALL_HINT, EXIT_BAD_INPUT)
        raise
    with reported(debug):
        client = _async_client(base_url, token, no_cache)
        if http:
            anyio.run(
                lambda: server.run_http(client, allow_writes=allow_writes, host=host, port=port)
            )
        else:
            anyio.run(lambda: server.run_stdio(client, allow_writes=allow_writes))
