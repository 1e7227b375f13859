"""Generate the command table (`generated/discogs_cli/`) from the spec.

One row per operation: the group (its tag), the command name (the operation id with dashes),
the help text (summary and description), whether it changes the account, its iterator, and every
parameter with its schema, description and where it goes. The command line (`musicagent api`)
and the MCP server (`musicagent mcp`) are both built from this table at run time, so a new
operation in the spec becomes a command and a tool by regenerating, with no hand wiring.

The package holds plain data only and imports nothing heavy: listing commands or printing help
must not pay for the models or the request builders. Each group's commands are a module of their
own (`discogs_cli/database.py`), imported when that group is used: running one command loads one
group, and `COMMANDS` (every command) is assembled on first access.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from facade import Op, collect

READ_METHODS = ("GET", "HEAD")

PRELUDE = '''"""Every Discogs operation as a command: the table of `musicagent api` and `mcp`.

Plain data generated from spec/discogs.yaml; importing it loads no models or request builders.
One module per group holds its commands (`commands_of("database")` imports `database`);
`COMMANDS` and `BY_OPERATION` load every group on first access.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of a command: how it is given and where it goes on the wire."""

    name: str
    """The facade's keyword (Python name)."""
    location: Literal["path", "query", "header", "body"]
    wire_name: str
    required: bool
    schema: dict[str, Any]
    """JSON Schema of the value (an empty mapping for a file)."""
    description: str
    binary: bool = False
    """A file to upload (multipart)."""

    @property
    def flag(self) -> str:
        """The command-line option (`--curr-abbr`)."""
        return "--" + self.name.rstrip("_").replace("_", "-")


@dataclass(frozen=True, slots=True)
class Command:
    """One operation as a command of `musicagent api <group> <name>` and an MCP tool."""

    group: str
    name: str
    operation_id: str
    method: str
    path: str
    summary: str
    description: str
    writes: bool
    """Whether calling it changes the user's account (anything but GET)."""
    result_kind: str
    """model, form, none, bytes or location (what the facade method returns)."""
    iterator: str | None
    """The facade's `iter_*` walker of a paginated operation."""
    items_key: str | None
    """The field of a page that holds its items."""
    body_kind: str | None
    """json or multipart when the operation takes a request body."""
    parameters: tuple[Parameter, ...]

    @property
    def arguments(self) -> tuple[Parameter, ...]:
        """Path parameters: positional arguments, in path order."""
        return tuple(p for p in self.parameters if p.location == "path")

    @property
    def options(self) -> tuple[Parameter, ...]:
        """Query, header and body parameters: options."""
        return tuple(p for p in self.parameters if p.location != "path")

'''


def _parameter(arg: Any) -> str:
    return (
        f"        Parameter({arg.python_name!r}, {arg.location!r}, {arg.wire_name!r}, "
        f"{arg.required!r}, {arg.schema!r}, {arg.description!r}, {arg.binary!r}),"
    )


def _command(op: Op) -> list[str]:
    return [
        "    Command(",
        f"        group={op.tag!r},",
        f"        name={op.operation_id.replace('_', '-')!r},",
        f"        operation_id={op.operation_id!r},",
        f"        method={op.method!r},",
        f"        path={op.path!r},",
        f"        summary={op.summary!r},",
        f"        description={' '.join(op.description.split())!r},",
        f"        writes={op.method not in READ_METHODS!r},",
        f"        result_kind={op.result_kind!r},",
        f"        iterator={op.iterator!r},",
        f"        items_key={op.items_key!r},",
        f"        body_kind={op.body_kind!r},",
        "        parameters=(",
        *(_parameter(a) for a in op.args),
        "        ),",
        "    ),",
    ]


LAZY = '''

def commands_of(group: str) -> tuple[Command, ...]:
    """The commands of one group, in spec order (imports that group's module only)."""
    if group not in GROUPS:
        raise KeyError(group)
    commands: tuple[Command, ...] = importlib.import_module(f"{__name__}.{group}").COMMANDS
    return commands


def command_for(operation_id: str) -> Command:
    """The command of one operation id (KeyError if the spec has no such operation)."""
    for command in commands_of(GROUP_OF[operation_id]):
        if command.operation_id == operation_id:
            return command
    raise KeyError(operation_id)


if TYPE_CHECKING:
    COMMANDS: tuple[Command, ...]
    """Every command, in spec order."""
    BY_OPERATION: dict[str, Command]
    """The command of each operation id."""


def __getattr__(name: str) -> Any:
    # Every group is loaded only when something asks for all of them (the MCP tool list).
    if name == "BY_OPERATION":
        value: Any = {c.operation_id: c for group in GROUPS for c in commands_of(group)}
    elif name == "COMMANDS":
        by_operation = __getattr__("BY_OPERATION")
        value = tuple(by_operation[operation_id] for operation_id in GROUP_OF)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "BY_OPERATION",
    "COMMANDS",
    "GROUPS",
    "GROUP_OF",
    "Command",
    "Parameter",
    "command_for",
    "commands_of",
]
'''


def render_table(ops: list[Op], spec: dict[str, Any]) -> str:
    """The source of `discogs_cli/__init__.py`: the classes, the groups, the lazy lookups."""
    tags = {t["name"]: " ".join(str(t.get("description", "")).split()) for t in spec["tags"]}
    used = [t for t in tags if any(op.tag == t for op in ops)]
    out = [PRELUDE, "GROUPS: dict[str, str] = {"]
    out += [f"    {t!r}: {tags[t]!r}," for t in used]
    out += ["}", '"""Command groups (spec tags) and what each holds."""', ""]
    out.append("GROUP_OF: dict[str, str] = {")
    out += [f"    {op.operation_id!r}: {op.tag!r}," for op in ops]
    out += ["}", '"""The group of each operation id, in spec order."""']
    return "\n".join(out) + "\n" + LAZY


def render_group(tag: str, ops: list[Op]) -> str:
    """The source of `discogs_cli/<tag>.py`: the commands of one group."""
    out = [
        f'"""The commands of `musicagent api {tag}` (generated from spec/discogs.yaml)."""',
        "",
        "from __future__ import annotations",
        "",
        "from . import Command, Parameter",
        "",
        "COMMANDS: tuple[Command, ...] = (",
    ]
    for op in ops:
        if op.tag == tag:
            out += _command(op)
    out.append(")")
    return "\n".join(out) + "\n"


def generate_cli_table(out: Path, spec: dict[str, Any]) -> None:
    """Write generated/discogs_cli/ (needs out/discogs_api importable, as the facade does)."""
    sys.path.insert(0, str(out))
    try:
        for name in [m for m in sys.modules if m.split(".")[0] == "discogs_api"]:
            del sys.modules[name]
        ops = collect(spec)
    finally:
        sys.path.remove(str(out))
    target = out / "discogs_cli"
    target.mkdir(parents=True, exist_ok=True)
    (target / "__init__.py").write_text(render_table(ops, spec))
    for tag in dict.fromkeys(op.tag for op in ops):
        (target / f"{tag}.py").write_text(render_group(tag, ops))
    (target / "py.typed").write_text("")
