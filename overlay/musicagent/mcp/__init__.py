"""`musicagent mcp`: the Discogs API for AI agents, as an MCP server generated from the spec.

One tool per operation (named by its operation id, input schema from its parameters and body,
description from the spec), read operations by default and writes only when allowed, plus
resources for the user's identity, collection folders and rate budget. Every tool call runs
through `AsyncDiscogs`, so it is paced, cached, retried and masked like any other call.

Needs the `mcp` extra (`pip install 'musicagent[mcp]'`); nothing here imports the SDK until the
server is built.
"""

from __future__ import annotations

INSTALL_HINT = "the MCP server needs the official MCP SDK: pip install 'musicagent[mcp]'"
"""What to tell someone whose environment lacks the `mcp` extra."""

__all__ = ["INSTALL_HINT"]
