"""The MCP server: the SDK's low-level `Server` with handlers over one `AsyncDiscogs` client.

The low-level server (not the decorator-based one) is used because the tools are data: their
names, schemas and descriptions come from the generated command table, not from Python
function signatures. Transports: stdio (`run_stdio`) and streamable HTTP on a loopback
address (`run_http`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import discogs_cli
import mcp.types as types
from discogs_cli import Command
from mcp.server import Server, ServerRequestContext

from musicagent import __version__
from musicagent.async_client import AsyncDiscogs
from musicagent.errors import DiscogsAPIError
from musicagent.mcp.tools import (
    ToolAnswer,
    answer,
    arguments_for,
    description,
    input_schema,
    render,
    tool_commands,
)

IDENTITY_URI = "discogs://identity"
FOLDERS_URI = "discogs://collection/folders"
RATE_LIMIT_URI = "discogs://rate-limit"

INSTRUCTIONS = (
    "Tools are the Discogs API operations, one per operation id. Calls are paced under the "
    "user's rate limit: a burst of calls waits instead of failing. Paged tools return one page "
    "and say when more exist. Tools marked WRITE change the user's account."
)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _error_text(exc: BaseException) -> str:
    from musicagent.cli._options import explain

    message, hint, _code = explain(exc)
    return f"{message} ({hint})" if hint else message


@dataclass
class DiscogsTools:
    """Tool calls and resource reads over one client (what the handlers delegate to)."""

    client: AsyncDiscogs
    allow_writes: bool = False

    @property
    def commands(self) -> list[Command]:
        """The operations offered as tools."""
        return tool_commands(discogs_cli.COMMANDS, allow_writes=self.allow_writes)

    def tools(self) -> list[types.Tool]:
        """One tool per offered operation."""
        return [
            types.Tool(
                name=c.operation_id,
                title=c.summary,
                description=description(c),
                input_schema=input_schema(c),
                annotations=types.ToolAnnotations(
                    read_only_hint=not c.writes,
                    destructive_hint=c.writes and c.method == "DELETE",
                    idempotent_hint=c.method in ("GET", "PUT", "DELETE"),
                    open_world_hint=True,
                ),
            )
            for c in self.commands
        ]

    async def call(self, name: str, given: dict[str, Any] | None) -> types.CallToolResult:
        """Run one tool; every failure is a tool error the agent can read, never a crash."""
        # One tool call loads its own group of the table, not every group.
        command = discogs_cli.command_for(name) if name in discogs_cli.GROUP_OF else None
        if command is None or (command.writes and not self.allow_writes):
            why = (
                "it changes the user's account and the server runs without --allow-writes"
                if command is not None
                else "no such tool"
            )
            return _failure(f"tool {name!r} is not available: {why}")
        try:
            arguments = arguments_for(command, given)
            resource = getattr(self.client, command.group)
            result = await getattr(resource, command.operation_id)(**arguments)
        except (DiscogsAPIError, OSError, ValueError) as exc:
            return _failure(_error_text(exc))
        return _success(answer(command, result))

    def resources(self) -> list[types.Resource]:
        """What an agent can read without calling a tool."""
        return [
            types.Resource(
                uri=IDENTITY_URI,
                name="identity",
                description="Who the credentials belong to (username, id).",
                mime_type="application/json",
            ),
            types.Resource(
                uri=FOLDERS_URI,
                name="collection-folders",
                description="The user's collection folders, with item counts.",
                mime_type="application/json",
            ),
            types.Resource(
                uri=RATE_LIMIT_URI,
                name="rate-limit",
                description="The rate budget now: limit, used, remaining, window, next free slot.",
                mime_type="application/json",
            ),
        ]

    async def read(self, uri: str) -> Any:
        """The data of one resource."""
        if uri == IDENTITY_URI:
            return (await self.client.users.get_identity()).to_dict()
        if uri == FOLDERS_URI:
            me = await self.client.users.get_identity()
            folders = await self.client.collection.list_collection_folders(me.username)
            return folders.to_dict()
        if uri == RATE_LIMIT_URI:
            state = self.client.rate_limit
            if state is None:
                return {"limited": False}
            return {
                "limit": state.limit,
                "used": state.used,
                "remaining": state.remaining,
                "window_seconds": state.window,
                "next_free_in_seconds": round(state.next_free_in, 3),
            }
        from musicagent.errors import InvalidParameterError

        raise InvalidParameterError(
            f"unknown resource {uri!r}",
            parameter="uri",
            allowed=", ".join((IDENTITY_URI, FOLDERS_URI, RATE_LIMIT_URI)),
        )


def _success(result: ToolAnswer) -> types.CallToolResult:
    content = [types.TextContent(text=render(result))]
    content += [types.TextContent(text=note) for note in result.notes]
    structured = result.data if isinstance(result.data, dict) else None
    return types.CallToolResult(content=content, structured_content=structured)


def _failure(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def build_server(tools: DiscogsTools) -> Server[Any]:
    """The SDK server whose handlers delegate to `tools`."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools.tools())

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await tools.call(params.name, params.arguments)

    async def list_resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=tools.resources())

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        data = await tools.read(str(params.uri))
        text = json.dumps(data, ensure_ascii=False)
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=str(params.uri), mime_type="application/json", text=text
                )
            ]
        )

    return Server(
        "musicagent",
        version=__version__,
        title="MusicAgent (Discogs API)",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


async def run_stdio(client: AsyncDiscogs, *, allow_writes: bool) -> None:
    """Serve over stdin/stdout until the client closes the connection."""
    from mcp.server.stdio import stdio_server

    server = build_server(DiscogsTools(client, allow_writes))
    async with client, stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def run_http(client: AsyncDiscogs, *, allow_writes: bool, host: str, port: int) -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp until interrupted (loopback only)."""
    import uvicorn

    if host not in LOOPBACK_HOSTS:
        from musicagent.errors import InvalidParameterError

        raise InvalidParameterError(
            f"--host {host!r} is not a loopback address: the server acts with your credentials",
            parameter="--host",
            allowed=", ".join(LOOPBACK_HOSTS),
        )
    server = build_server(DiscogsTools(client, allow_writes))
    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    async with client:
        await uvicorn.Server(config).serve()
