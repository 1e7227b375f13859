"""`musicagent validate-response`: check captured Discogs bodies against the spec."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from musicagent.cli._app import app
from musicagent.validation import (
    Problem,
    UnknownOperationError,
    UnknownStatusError,
    bundled_validator,
    parse_problems,
)

EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


class UnusableInput(Exception):
    """Input that cannot be validated at all (unknown path, unreadable or non-JSON file)."""


def _load_body(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UnusableInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UnusableInput(f"{path} is not UTF-8 text") from exc
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnusableInput(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from exc


@dataclass(frozen=True)
class Checked:
    """What checking one body found: its operation, its problems, the fields the spec lacks."""

    operation_id: str
    problems: list[Problem]
    unknown: list[str]


def check_body(method: str, url_or_path: str, status: int, body_file: Path) -> list[Problem]:
    """Validate one body file; the problems found (empty when valid)."""
    return check(method, url_or_path, status, body_file).problems


def check(method: str, url_or_path: str, status: int, body_file: Path) -> Checked:
    """Validate one body file against the spec and its model, and list undescribed fields."""
    body = _load_body(body_file)
    validator = bundled_validator()
    try:
        op, problems = validator.validate_response(method, url_or_path, status, body)
        pointer = validator.response_schema_pointer(op, status)
    except (UnknownOperationError, UnknownStatusError) as exc:
        raise UnusableInput(str(exc)) from exc
    if not problems:
        problems = parse_problems(validator, op, status, body)
    unknown = validator.unknown_fields(pointer, body) if pointer is not None else []
    return Checked(op.operation_id, problems, unknown)


def _report_drift(drift: dict[tuple[str, str], int]) -> None:
    """One line per undescribed field: the drift that tells a maintainer to edit the spec."""
    for (operation_id, pointer), count in sorted(drift.items()):
        bodies = "body" if count == 1 else "bodies"
        typer.echo(f"unknown {operation_id} {pointer} ({count} {bodies})")
    if drift:
        typer.echo(f"{len(drift)} undescribed fields: describe them in spec/discogs.yaml")


def _run_manifest(manifest: Path, *, report_unknown: bool = False) -> int:
    try:
        with manifest.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except OSError as exc:
        typer.echo(f"error: cannot read manifest {manifest}: {exc.strerror or exc}", err=True)
        return EXIT_UNUSABLE
    needed = {"file", "method", "path", "status"}
    # `path_template` (the column name of the project's own manifests) is accepted for `path`.
    for row in rows:
        if "path" not in row and "path_template" in row:
            row["path"] = row["path_template"]
    if not rows or not needed <= set(rows[0]):
        typer.echo(
            f"error: {manifest} needs a header row with columns {', '.join(sorted(needed))}",
            err=True,
        )
        return EXIT_UNUSABLE
    valid = invalid = 0
    drift: dict[tuple[str, str], int] = {}
    for row in rows:
        name = row["file"]
        try:
            checked = check(row["method"], row["path"], int(row["status"]), manifest.parent / name)
            problems = checked.problems
            for pointer in checked.unknown:
                key = (checked.operation_id, pointer)
                drift[key] = drift.get(key, 0) + 1
        except (UnusableInput, ValueError) as exc:
            problems = [Problem("", str(exc))]
        if problems:
            invalid += 1
            typer.echo(f"invalid {name}: {problems[0]}")
        else:
            valid += 1
            typer.echo(f"ok {name}")
    if report_unknown:
        _report_drift(drift)
    typer.echo(f"{valid} valid, {invalid} invalid")
    return EXIT_VALID if invalid == 0 else EXIT_INVALID


@app.command("validate-response")
def validate_response(
    url_or_path: Annotated[
        str | None,
        typer.Argument(help="Request path (/releases/249504) or full https://api.discogs.com URL."),
    ] = None,
    body: Annotated[
        Path | None, typer.Argument(help="The response body, a JSON file.", show_default=False)
    ] = None,
    method: Annotated[str, typer.Option("--method", "-X", help="HTTP method.")] = "GET",
    status: Annotated[
        int, typer.Option("--status", "-s", help="HTTP status of the response.")
    ] = 200,
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest",
            help="TSV with a header row and columns file, method, path, status "
            "(file paths relative to the TSV).",
        ),
    ] = None,
    report_unknown: Annotated[
        bool,
        typer.Option(
            "--report-unknown",
            help="Also list the fields the bodies carry that the spec does not describe "
            "(the drift to add to spec/discogs.yaml); does not change the exit code.",
        ),
    ] = False,
) -> None:
    """Check that a captured response still matches the spec and parses into its model.

    Examples:

      musicagent validate-response --method GET --status 200 /releases/249504 body.json

      musicagent validate-response https://api.discogs.com/artists/1 artist.json

      musicagent validate-response --manifest captures/MANIFEST.tsv --report-unknown

    Exit 0 when valid; 1 with one `JSON-pointer: message` line per problem; 2 when the input
    cannot be used (unknown path, unreadable or non-JSON file).
    """
    if manifest is not None:
        raise typer.Exit(_run_manifest(manifest, report_unknown=report_unknown))
    if url_or_path is None or body is None:
        typer.echo("error: give URL_OR_PATH and BODY, or --manifest FILE.tsv", err=True)
        raise typer.Exit(EXIT_UNUSABLE)
    try:
        checked = check(method, url_or_path, status, body)
    except UnusableInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_UNUSABLE) from None
    problems = checked.problems
    if report_unknown:
        _report_drift({(checked.operation_id, pointer): 1 for pointer in checked.unknown})
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        raise typer.Exit(EXIT_INVALID)
    typer.echo(f"ok: {body} matches {method.upper()} {url_or_path} {status}")
