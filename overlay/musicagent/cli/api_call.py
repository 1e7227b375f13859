"""Running one `musicagent api` command: arguments, dry run, the facade call, output.

Every call goes through the client's facade method of the operation (or its `iter_*` walker
with `--all`), so it is paced, cached, retried and masked like any other. `--dry-run` builds
the same request with the same argument checks and builder, signs a copy to show which
credential would be sent, masks it, and sends nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from musicagent.cli._options import console, open_client, print_json, reported
from musicagent.cli.select import parse_paths, select
from musicagent.errors import InvalidParameterError

if TYPE_CHECKING:
    from discogs_cli import Command

    from musicagent.client import Discogs

PAGE_FIELDS = ("page", "per_page")


def on_terminal() -> bool:
    """Whether a person is at the keyboard (stdin is a terminal): only then is a write confirmed."""
    return sys.stdin.isatty()


def json_wanted(flag: bool | None) -> bool:
    """`--json`, or JSON by default when stdout is not a terminal (piped, captured)."""
    return bool(flag) if flag is not None else not sys.stdout.isatty()


def body_fields(command: Command, source: IO[str]) -> dict[str, Any]:
    """The facade arguments in a `--body` JSON object (wire names → Python names)."""
    try:
        document = json.load(source)
    except json.JSONDecodeError as exc:
        raise InvalidParameterError(
            f"--body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            parameter="--body",
            allowed="a JSON object",
        ) from None
    fields = {p.wire_name: p.name for p in command.options if p.location == "body"}
    if not isinstance(document, dict):
        raise InvalidParameterError(
            f"--body must be a JSON object, not {type(document).__name__}",
            parameter="--body",
            allowed="a JSON object with fields: " + ", ".join(fields),
        )
    unknown = sorted(set(document) - set(fields))
    if unknown:
        raise InvalidParameterError(
            f"--body: unknown field {unknown[0]!r} for {command.operation_id}",
            parameter="--body",
            allowed="fields: " + ", ".join(fields),
        )
    return {fields[key]: value for key, value in document.items()}


def collect_arguments(command: Command, values: Mapping[str, Any]) -> dict[str, Any]:
    """The facade arguments from the parsed command line: the body file, then the options."""
    arguments: dict[str, Any] = {}
    body = values.get("body")
    if body is not None:
        arguments.update(body_fields(command, body))
    for parameter in command.parameters:
        value = values.get(parameter.name)
        if value is not None:
            arguments[parameter.name] = value
    return arguments


def describe_request(
    client: Discogs, command: Command, arguments: Mapping[str, Any]
) -> dict[str, Any]:
    """The request a call would send (method, URL, headers, body), every credential masked.

    Built by the executor's own `build_request` (the same argument checks and generated
    builder as a real call) and signed by the client's credential on a copy, so the output
    shows which credential would be used without showing it.
    """
    from discogs_facade import OPERATIONS

    from musicagent._executor import build_request
    from musicagent.masking import known_secrets, mask_headers, mask_text, mask_url

    request = build_request(client.http, OPERATIONS[command.operation_id], dict(arguments))
    if client.auth is not None:
        request = next(client.auth.sync_auth_flow(request))
    content = request.read()
    body: Any = None
    if content:
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            body = json.loads(mask_text(content.decode("utf-8"), known_secrets()))
        else:
            body = f"<{len(content)} bytes of {kind.split(';')[0] or 'data'}>"
    return {
        "method": request.method,
        "url": mask_url(request.url),
        "headers": mask_headers(request.headers),
        "body": body,
    }


def plain(result: Any) -> Any:
    """A facade result as JSON-compatible data (models as sent by Discogs)."""
    if hasattr(result, "to_dict"):
        return result.to_dict()
    if hasattr(result, "model_dump"):  # a root model (a mapping or list body)
        return result.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(result, str):  # a Location: where the new resource is
        return {"location": result}
    return result


def call(client: Discogs, command: Command, arguments: dict[str, Any], walk_all: bool) -> Any:
    """Run the operation through its facade method (or walk it with its `iter_*`)."""
    resource = getattr(client, command.group)
    if walk_all and command.iterator:
        walk = getattr(resource, command.iterator)
        args = {k: v for k, v in arguments.items() if k not in PAGE_FIELDS}
        return [plain(item) for item in walk(**args)]
    return plain(getattr(resource, command.operation_id)(**arguments))


def _write_bytes(data: bytes, output: str | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(data)
        console.print(f"Wrote {len(data)} bytes to {output}", highlight=False)


def show(command: Command, data: Any, *, as_json: bool) -> None:
    """Print a result: JSON, or a readable view on a terminal."""
    if as_json:
        print_json(data)
        return
    from musicagent.cli.api_views import render_result

    console.print(render_result(command, data))


def run_command(command: Command, values: dict[str, Any]) -> None:
    """The callback of every generated command."""
    debug = bool(values.get("debug"))
    as_json = json_wanted(values.get("as_json"))
    with reported(debug):
        paths = parse_paths(values["select"]) if values.get("select") else None
        arguments = collect_arguments(command, values)
        with open_client(
            values.get("base_url"), values.get("token"), no_cache=values["no_cache"]
        ) as client:
            if values.get("dry_run"):
                show(command, describe_request(client, command, arguments), as_json=as_json)
                return
            if command.writes and not values.get("yes") and on_terminal():
                click.confirm(
                    f"{command.method} {command.path} changes your Discogs account. Continue?",
                    abort=True,
                    err=True,
                )
            data = call(client, command, arguments, bool(values.get("walk_all")))
        if isinstance(data, bytes):
            _write_bytes(data, values.get("output"))
            return
        if paths is not None and data is not None:
            data = select(data, paths)
        show(command, data, as_json=as_json)
