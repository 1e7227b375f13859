"""The click tree of `musicagent api <group> <operation>`: every Discogs operation a command.

The commands are built at run time from the generated command table (`discogs_cli`, compiled
from the spec like the facade): one group per tag, one command per operation, every parameter
an argument (path) or an option (query, header, body) with its spec description and enum
choices. Nothing here names an operation: a new one in the spec is a new command.

Building the click tree imports only the table, and only the part a command line names; the
client is imported when a command runs. It needs click alone: the console script runs
`musicagent api ...` through `main` here without loading typer or the other commands.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from discogs_cli import Command, Parameter

#: Options every API command has; a spec parameter with one of these flags would be ambiguous.
COMMON_FLAGS = frozenset(
    {
        "--json",
        "--select",
        "--all",
        "--dry-run",
        "--yes",
        "--body",
        "--output",
        "--base-url",
        "--token",
        "--no-cache",
        "--debug",
        "--help",
    }
)


class _SchemaValue(click.ParamType[Any]):
    """Converts option text by the parameter's JSON Schema; the spec's checks run later."""

    def __init__(self, parameter: Parameter) -> None:
        self.parameter = parameter
        schema = parameter.schema
        self.name = str(schema.get("type") or ("file" if parameter.binary else "value"))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return convert_text(self.parameter.schema, value)
        except ValueError:
            from musicagent._executor import describe_allowed

            allowed = describe_allowed(self.parameter.schema)
            self.fail(f"{value!r} is not allowed; expected {allowed}", param, ctx)


def convert_text(schema: dict[str, Any], text: str) -> Any:
    """A value of the type `schema` describes, parsed from command-line text (ValueError if not)."""
    for alternative in schema.get("oneOf") or schema.get("anyOf") or ():
        try:
            return convert_text(alternative, text)
        except ValueError:
            continue
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "enum" in schema and text not in [str(v) for v in schema["enum"]]:
        raise ValueError(text)
    if "integer" in kinds:
        return int(text)
    if "number" in kinds:
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if "boolean" in kinds:
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(text)
    if "string" in kinds:
        return text
    if kinds in ([None], ["object"], ["array"]) and text[:1] in "[{":
        return json.loads(text)
    if schema.get("oneOf") or schema.get("anyOf"):
        raise ValueError(text)
    return text


def _help(parameter: Parameter) -> str:
    text = parameter.description or parameter.wire_name
    if parameter.required:
        text += " [required]"
    return text


def _click_parameter(parameter: Parameter) -> click.Parameter:
    if parameter.location == "path":
        return click.Argument([parameter.name], type=_SchemaValue(parameter), required=True)
    if parameter.flag in COMMON_FLAGS:
        raise SystemExit(f"spec parameter {parameter.flag} clashes with a common option")
    schema = parameter.schema
    choice = schema.get("enum")
    kind: click.ParamType[Any]
    if choice and schema.get("type") == "string":
        kind = click.Choice([str(v) for v in choice])
    elif parameter.binary:
        kind = click.Path(exists=True, dir_okay=False)
    else:
        kind = _SchemaValue(parameter)
    return click.Option([parameter.flag, parameter.name], type=kind, help=_help(parameter))


def _common_options(command: Command) -> list[click.Parameter]:
    options: list[click.Parameter] = [
        click.Option(
            ["--json", "as_json"],
            is_flag=True,
            default=None,
            help="Print JSON (the default when stdout is not a terminal).",
        ),
        click.Option(
            ["--select"],
            metavar="PATHS",
            help="Keep only these dotted field paths, e.g. id,title,artists.name.",
        ),
        click.Option(
            ["--dry-run"],
            is_flag=True,
            help="Print the request (credentials masked) and send nothing.",
        ),
    ]
    if command.iterator:
        options.append(
            click.Option(
                ["--all", "walk_all"],
                is_flag=True,
                help="Walk every page and print every item (ignores --page/--per-page).",
            )
        )
    if command.body_kind == "json":
        options.append(
            click.Option(
                ["--body"],
                type=click.File("r", encoding="utf-8"),
                help="The request body as a JSON object, from a file or - for stdin; "
                "options given as well override its fields.",
            )
        )
    if command.result_kind == "bytes":
        options.append(
            click.Option(
                ["--output", "-o"],
                type=click.Path(dir_okay=False, writable=True),
                help="Write the file here instead of to stdout.",
            )
        )
    if command.writes:
        options.append(
            click.Option(
                ["--yes", "-y"], is_flag=True, help="Do not ask for confirmation on a terminal."
            )
        )
    options += [
        click.Option(
            ["--base-url"],
            envvar="DISCOGS_BASE_URL",
            help="API root (default https://api.discogs.com; a sandbox URL for tests).",
        ),
        click.Option(
            ["--token"],
            envvar="DISCOGS_TOKEN",
            help="Personal access token (default: DISCOGS_TOKEN, then saved OAuth tokens).",
        ),
        click.Option(["--no-cache"], is_flag=True, help="Do not read or write the HTTP cache."),
        click.Option(["--debug"], is_flag=True, help="Show the full traceback on failure."),
    ]
    return options


def _command_help(command: Command) -> str:
    text = f"{command.summary}.\n\n{command.description}".strip()
    if command.writes:
        text += "\n\nThis changes your Discogs account; on a terminal it asks first (--yes skips)."
    return text + f"\n\n{command.method} {command.path}"


def build_command(command: Command) -> click.Command:
    """The click command of one operation."""

    def callback(**values: Any) -> None:
        from musicagent.cli import _collector
        from musicagent.cli.api_call import run_command

        _collector.resume()
        run_command(command, values)

    return click.Command(
        command.name,
        callback=callback,
        params=[*(_click_parameter(p) for p in command.parameters), *_common_options(command)],
        help=_command_help(command),
        short_help=command.summary,
        no_args_is_help=bool(command.arguments),
    )


class _LazyGroup(click.Group):
    """A group whose subcommands are built when asked for, from names it knows up front.

    Running one command builds that command (and loads its group's table) only; listing a
    group's help builds the group's commands, not the other groups'.
    """

    def __init__(self, name: str, names: list[str], build: Any, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._names = names
        self._build = build

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._names)  # as click lists the commands it holds

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self._names:
            self.add_command(self._build(cmd_name), cmd_name)
        return self.commands.get(cmd_name)


def _tag_group(tag: str) -> click.Group:
    from discogs_cli import GROUP_OF, GROUPS, commands_of

    names = [op.replace("_", "-") for op, group in GROUP_OF.items() if group == tag]

    def build(name: str) -> click.Command:
        return build_command(next(c for c in commands_of(tag) if c.name == name))

    return _LazyGroup(tag, names, build, help=GROUPS[tag], no_args_is_help=True)


def build_api_group() -> click.Group:
    """`api` with one group per spec tag and one command per operation, each built on use."""
    from discogs_cli import GROUPS

    return _LazyGroup(
        "api",
        list(GROUPS),
        _tag_group,
        help="Every Discogs operation, generated from the spec: musicagent api GROUP OPERATION.",
        no_args_is_help=True,
    )


def main(args: list[str]) -> None:
    """Run `musicagent api ARGS` (the console script calls this directly, not through typer)."""
    try:
        build_api_group().main(args=args, prog_name="musicagent api", standalone_mode=True)
    except Exception as exc:
        # The shared reporting (`_options.reported`) ends a failed command with typer's `Exit`,
        # which only typer's own entry turns into the exit code; without typer, do it here.
        # (Whatever raised it has imported typer already.)
        from typer import Exit

        if isinstance(exc, Exit):
            raise SystemExit(exc.exit_code) from None
        raise
