"""Tools from the command table: names, input schemas, descriptions, and what a call returns.

Pure functions of the generated table (`discogs_cli`) and of results; the SDK wiring is in
`musicagent.mcp.server`. Keeping them apart lets the schemas and paging be tested without a
transport.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from musicagent.errors import InvalidParameterError

if TYPE_CHECKING:
    from discogs_cli import Command, Parameter

AGENT_PAGE_SIZE = 25
"""Items per page a paged tool returns when the agent does not say (Discogs' default is 50)."""

MAX_TEXT = 100_000
"""Characters of a file (an inventory export) returned in one answer; the rest is cut, with a
note, so one call cannot flood the agent's context."""

WRITE_NOTE = (
    "WRITE: this tool changes the user's Discogs account ({method} {path}). "
    "Call it only when the user asked for this change."
)


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    """What a tool call returns: the body (JSON-compatible), and notes for the agent."""

    data: Any
    notes: tuple[str, ...] = ()


def tool_commands(commands: Iterable[Command], *, allow_writes: bool) -> list[Command]:
    """The operations offered as tools: every read, and the writes only when allowed."""
    return [c for c in commands if allow_writes or not c.writes]


def _property(command: Command, parameter: Parameter) -> dict[str, Any]:
    if parameter.binary:
        return {
            "type": "string",
            "description": (parameter.description or "File") + " (give the file's text, CSV).",
        }
    schema = dict(parameter.schema)
    if parameter.description:
        schema["description"] = parameter.description
    if command.iterator and parameter.wire_name == "per_page":
        schema["default"] = AGENT_PAGE_SIZE
    return schema


def input_schema(command: Command) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments: the operation's parameters and body fields."""
    return {
        "type": "object",
        "properties": {p.name: _property(command, p) for p in command.parameters},
        "required": [p.name for p in command.parameters if p.required],
        "additionalProperties": False,
    }


def description(command: Command) -> str:
    """The spec's summary and description, and what calling the tool does to the account."""
    parts = [f"{command.summary}.", command.description]
    if command.iterator:
        parts.append(
            f"Paged: returns one page ({AGENT_PAGE_SIZE} items unless per_page says otherwise); "
            "the answer says when more pages exist."
        )
    if command.writes:
        parts.append(WRITE_NOTE.format(method=command.method, path=command.path))
    return "\n\n".join(p for p in parts if p)


def arguments_for(command: Command, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The facade arguments of a tool call; unknown names are refused, naming them.

    Values are checked by the executor against the spec (the same checks as any call), so an
    out-of-range or wrongly typed value comes back as a tool error naming its parameter.
    """
    given = dict(given or {})
    known = {p.name: p for p in command.parameters}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidParameterError(
            f"{command.operation_id}: unknown argument {unknown[0]!r}",
            parameter=unknown[0],
            allowed="arguments: " + (", ".join(known) or "none"),
        )
    arguments = {k: v for k, v in given.items() if v is not None}
    for name, value in arguments.items():
        # A file is given as its text; never as a path the server would read from its own disk.
        if known[name].binary and isinstance(value, str):
            arguments[name] = value.encode("utf-8")
    if command.iterator and "per_page" in known and "per_page" not in arguments:
        arguments["per_page"] = AGENT_PAGE_SIZE
    return arguments


def answer(command: Command, result: Any) -> ToolAnswer:
    """The body of a result as JSON-compatible data, with a note when more pages exist."""
    if hasattr(result, "to_dict"):
        data = result.to_dict()
    elif hasattr(result, "model_dump"):  # a root model (a mapping or list body)
        data = result.model_dump(mode="json", by_alias=True, exclude_unset=True)
    elif isinstance(result, bytes):
        text = result.decode("utf-8", errors="replace")
        if len(text) > MAX_TEXT:
            note = f"The file has {len(text)} characters; only the first {MAX_TEXT} are shown."
            return ToolAnswer({"content": text[:MAX_TEXT]}, (note,))
        return ToolAnswer({"content": text})
    elif isinstance(result, str):
        data = {"location": result}
    elif result is None:
        return ToolAnswer({"ok": True}, (f"{command.method} {command.path} done.",))
    else:
        data = result
    return ToolAnswer(data, more_pages_note(command, data))


def more_pages_note(command: Command, data: Any) -> tuple[str, ...]:
    """`More results: …` when a paged answer is not the last page."""
    if not command.iterator or not isinstance(data, dict):
        return ()
    pagination = data.get("pagination") or {}
    page, pages = pagination.get("page"), pagination.get("pages")
    if not isinstance(page, int) or not isinstance(pages, int) or page >= pages:
        return ()
    items = pagination.get("items")
    total = f" ({items} items in all)" if isinstance(items, int) else ""
    return (
        f"More results: this is page {page} of {pages}{total}. "
        f"Call {command.operation_id} again with page={page + 1} for the next page.",
    )


def render(answer: ToolAnswer) -> str:
    """The body as compact JSON text (what a client without structured content reads)."""
    return json.dumps(answer.data, ensure_ascii=False, separators=(",", ":"))
