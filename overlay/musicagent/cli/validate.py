"""`musicagent validate-response`: check captured Discogs bodies against the spec."""

from __future__ import annotations

import csv
import json
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


def check_body(method: str, url_or_path: str, status: int, body_file: Path) -> list[Problem]:
    """Validate one body file; the problems found (empty when valid)."""
    body = _load_body(body_file)
    validator = bundled_validator()
    try:
        op, problems = validator.validate_response(method, url_or_path, status, body)
    except (UnknownOperationError, UnknownStatusError) as exc:
        raise UnusableInput(str(exc)) from exc
    if not problems:
        problems = parse_problems(validator, op, status, body)
    return problems


def _run_manifest(manifest: Path) -> int:
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
    for row in rows:
        name = row["file"]
        try:
            problems = check_body(
                row["method"], row["path"], int(row["status"]), manifest.parent / name
            )
        except (UnusableInput, ValueError) as exc:
            problems = [Problem("", str(exc))]
        if problems:
            invalid += 1
            typer.echo(f"invalid {name}: {problems[0]}")
        else:
            valid += 1
            typer.echo(f"ok {name}")
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
) -> None:
    """Check that a captured response still matches the spec and parses into its model.

    Examples:

      musicagent validate-response --method GET --status 200 /releases/249504 body.json

      musicagent validate-response https://api.discogs.com/artists/1 artist.json

      musicagent validate-response --manifest captures/MANIFEST.tsv

    Exit 0 when valid; 1 with one `JSON-pointer: message` line per problem; 2 when the input
    cannot be used (unknown path, unreadable or non-JSON file).
    """
    if manifest is not None:
        raise typer.Exit(_run_manifest(manifest))
    if url_or_path is None or body is None:
        typer.echo("error: give URL_OR_PATH and BODY, or --manifest FILE.tsv", err=True)
        raise typer.Exit(EXIT_UNUSABLE)
    try:
        problems = check_body(method, url_or_path, status, body)
    except UnusableInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_UNUSABLE) from None
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        raise typer.Exit(EXIT_INVALID)
    typer.echo(f"ok: {body} matches {method.upper()} {url_or_path} {status}")
