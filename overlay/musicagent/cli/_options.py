"""Options every command shares, and how a command turns them into a client.

Errors become one readable line with a hint and a distinct exit code; `--debug` shows the
traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from musicagent.auth import TokenStore
from musicagent.client import Discogs
from musicagent.errors import (
    AuthenticationError,
    DiscogsAPIError,
    ForbiddenError,
    InvalidParameterError,
    NetworkError,
    RateLimitError,
    ResourceNotFoundError,
    ResponseValidationError,
    ServerError,
)
from musicagent.settings import DiscogsSettings

BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="DISCOGS_BASE_URL",
        help="API root (default https://api.discogs.com; a sandbox URL for tests).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="DISCOGS_TOKEN",
        help="Personal access token (default: DISCOGS_TOKEN, then saved OAuth tokens).",
        show_default=False,
    ),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show the full traceback when something fails.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print raw JSON (for piping).")]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Do not read or write the HTTP cache.")
]

#: Exit codes, stable for scripts.
EXIT_API_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_UNAVAILABLE = 5

TOKEN_HINT = (
    "create a personal access token at https://www.discogs.com/settings/developers and pass "
    "--token or set DISCOGS_TOKEN (or run `musicagent auth login`)"
)

console = Console()
err_console = Console(stderr=True)


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    """Print one error line (and a hint) on stderr and exit with `code`."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    if hint:
        err_console.print(f"[dim]hint:[/] {hint}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def explain(exc: BaseException, what: str | None = None) -> tuple[str, str | None, int]:
    """The line, hint and exit code for an error."""
    if isinstance(exc, InvalidParameterError):
        allowed = f"allowed: {exc.allowed}" if exc.allowed else None
        return str(exc), allowed, EXIT_BAD_INPUT
    if isinstance(exc, AuthenticationError):
        return f"Discogs refused the credentials: {exc.message}", TOKEN_HINT, EXIT_AUTH
    if isinstance(exc, ForbiddenError):
        return (
            f"not allowed: {exc.message}",
            "you are signed in, but this belongs to another user (or needs their token)",
            EXIT_AUTH,
        )
    if isinstance(exc, ResourceNotFoundError):
        target = what or "the requested resource"
        return f"{target} was not found on Discogs ({exc.message})", None, EXIT_NOT_FOUND
    if isinstance(exc, RateLimitError):
        return (
            str(exc),
            "the rate limit was exceeded even after waiting; try again in a minute",
            EXIT_UNAVAILABLE,
        )
    if isinstance(exc, NetworkError):
        return str(exc), "check your connection or --base-url", EXIT_UNAVAILABLE
    if isinstance(exc, ServerError):
        return str(exc), "Discogs is having trouble; try again later", EXIT_UNAVAILABLE
    if isinstance(exc, ResponseValidationError):
        return (
            str(exc),
            "the response did not match the spec: report it with `musicagent validate-response`",
            EXIT_API_ERROR,
        )
    if isinstance(exc, DiscogsAPIError):
        return str(exc), None, EXIT_API_ERROR
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".strip(), None, EXIT_BAD_INPUT
    return f"{type(exc).__name__}: {exc}", None, EXIT_API_ERROR


@contextmanager
def reported(debug: bool, what: str | None = None) -> Iterator[None]:
    """Turn errors into one readable line and an exit code (or a traceback with --debug)."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise typer.Exit(130) from None
    except (DiscogsAPIError, OSError, ValueError) as exc:
        if debug:
            raise
        message, hint, code = explain(exc, what)
        fail(message, hint, code)


def open_client(
    base_url: str | None, token: str | None, *, no_cache: bool = False, **options: Any
) -> Discogs:
    """A client from the command's options, settings, and saved OAuth tokens."""
    overrides: dict[str, Any] = {}
    if no_cache:
        overrides["cache"] = "off"
    settings = DiscogsSettings(**overrides)
    oauth = None
    if token is None and settings.token is None and settings.consumer_key is not None:
        oauth = TokenStore().load()
    return Discogs(token, base_url=base_url, settings=settings, oauth=oauth, **options)


def print_json(data: Any) -> None:
    """Raw JSON on stdout, nothing else (safe to pipe)."""
    import json

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
