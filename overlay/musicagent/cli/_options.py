"""Options every command shares, and how a command turns them into a client.

Errors become one readable line with a hint and a distinct exit code; `--debug` shows the
traceback instead. Every command reads its settings the same way (`load_settings`: a bad value
is one line naming its `DISCOGS_*` variable), applies the base-URL rule (`DiscogsSettings`
documents it), configures logging from `DISCOGS_LOG_*`, checks what it can before the first
request (a usable cache folder), and says which credential it uses and why.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pydantic
from rich.console import Console

from musicagent.auth import OAuth1Auth, SavedLogin, TokenStore
from musicagent.cli.safe_text import json_text, markup
from musicagent.client import Discogs
from musicagent.errors import (
    AuthenticationError,
    CheckpointError,
    DiscogsAPIError,
    ExportLockedError,
    ForbiddenError,
    InvalidParameterError,
    LocalIOError,
    NetworkError,
    RateLimitError,
    ResourceNotFoundError,
    ResponseValidationError,
    ServerError,
    UnsafeFileError,
)
from musicagent.logging import configure_logging
from musicagent.settings import DiscogsSettings, SettingsError, load_settings, settings_error

if TYPE_CHECKING:
    from musicagent.cli._typer_options import (
        BaseUrlOption,
        DebugOption,
        JsonOption,
        NoCacheOption,
        TokenOption,
        TrustEnvFileOption,
    )

_TYPER_OPTIONS = frozenset(
    {
        "BaseUrlOption",
        "DebugOption",
        "JsonOption",
        "NoCacheOption",
        "TokenOption",
        "TrustEnvFileOption",
    }
)


def __getattr__(name: str) -> Any:
    # The typer option declarations load typer: only the typer commands ask for them.
    if name in _TYPER_OPTIONS:
        from musicagent.cli import _typer_options

        return getattr(_typer_options, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _exit_type() -> type[Exception]:
    """typer's `Exit`, which ends a command with its code; typer loads only when one ends so."""
    import typer

    return typer.Exit


#: Exit codes, stable for scripts.
EXIT_API_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_UNAVAILABLE = 5
EXIT_LOCAL_IO = 6
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

TOKEN_HINT = (
    "create a personal access token at https://www.discogs.com/settings/developers and pass "
    "--token or set DISCOGS_TOKEN (or run `musicagent auth login`)"
)
OAUTH_HINT = (
    "the saved OAuth login or the application's key and secret were refused: run "
    "`musicagent auth login` again (or `musicagent auth logout` to stop using it)"
)
KEY_SECRET_HINT = (
    "check DISCOGS_CONSUMER_KEY and DISCOGS_CONSUMER_SECRET: they are your application's, from "
    "https://www.discogs.com/settings/developers"
)
CACHE_HINT = "pass --no-cache, or set DISCOGS_CACHE_DIR to a folder you can write"

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be so the same cleanup and messages run."""


@dataclass(frozen=True)
class Credential:
    """The credential a command uses, and why (for `auth status` and for error hints).

    Attributes:
        kind: `token`, `oauth`, `key-secret` or `none`.
        why: where it came from, in words.
    """

    kind: str
    why: str

    def describe(self) -> str:
        """`personal access token (from --token or DISCOGS_TOKEN)`."""
        names = {
            "token": "personal access token",
            "oauth": "OAuth 1.0a access token",
            "key-secret": "application key and secret (no user)",
            "none": "none",
        }
        return f"{names[self.kind]} ({self.why})" if self.why else names[self.kind]


_last_credential = Credential("none", "")


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    """Print one error line (and a hint) on stderr and exit with `code`. The texts are shown
    as they are, never read as markup, and stripped of control characters."""
    err_console.print(f"[bold red]error:[/] {markup(message)}", soft_wrap=True)
    if hint:
        err_console.print(f"[dim]hint:[/] {markup(hint)}", soft_wrap=True)
    raise _exit_type()(code)


def _allowed_hint(exc: InvalidParameterError) -> str | None:
    allowed = exc.allowed
    if not allowed:
        return None
    words = allowed if isinstance(allowed, str) else ", ".join(str(a) for a in allowed)
    # A hint that only repeats the error helps nobody.
    return None if words in str(exc) else f"allowed: {words}"


def explain(exc: BaseException, what: str | None = None) -> tuple[str, str | None, int]:
    """The line, hint and exit code for an error."""
    if isinstance(exc, pydantic.ValidationError):
        exc = settings_error(exc)
    if isinstance(exc, LocalIOError):
        return _explain_local(exc)
    if isinstance(exc, SettingsError):
        return str(exc), None, EXIT_BAD_INPUT
    if isinstance(exc, InvalidParameterError):
        return str(exc), _allowed_hint(exc), EXIT_BAD_INPUT
    if isinstance(exc, AuthenticationError):
        credential = _last_credential
        if credential.kind == "none":
            return (
                f"this needs credentials, and none are configured ({exc.message})",
                TOKEN_HINT,
                EXIT_AUTH,
            )
        hint = {"oauth": OAUTH_HINT, "key-secret": KEY_SECRET_HINT}.get(credential.kind, TOKEN_HINT)
        return (
            f"Discogs refused the {credential.describe()}: {exc.message}",
            hint,
            EXIT_AUTH,
        )
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
        where = f" {exc.url}" if exc.url else ""
        return (
            f"could not reach{where}: {exc.message}",
            "check your connection, --base-url and DISCOGS_BASE_URL",
            EXIT_UNAVAILABLE,
        )
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
    if isinstance(exc, sqlite3.Error):
        return (
            f"a local database could not be used (the HTTP cache or the rate-limit state): {exc}",
            CACHE_HINT,
            EXIT_LOCAL_IO,
        )
    if isinstance(exc, OSError):
        path = exc.filename or ""
        reason = exc.strerror or str(exc)
        message = f"cannot use {str(path)!r}: {reason}" if path else reason
        return message, None, EXIT_LOCAL_IO
    return f"{type(exc).__name__}: {exc}", None, EXIT_API_ERROR


def _explain_local(exc: LocalIOError) -> tuple[str, str | None, int]:
    if isinstance(exc, ExportLockedError):
        return str(exc), None, EXIT_LOCAL_IO
    if isinstance(exc, UnsafeFileError):
        return (
            str(exc),
            "musicagent did not write that file: look at it, remove it, and run the command "
            "again with --restart",
            EXIT_LOCAL_IO,
        )
    if isinstance(exc, CheckpointError):
        return (
            str(exc),
            "run the same command with --restart instead of --resume to start over",
            EXIT_LOCAL_IO,
        )
    hint = None
    if exc.checkpoint:
        hint = (
            f"progress is saved in {exc.checkpoint}; fix the problem and run the same command "
            "with --resume to finish"
        )
    return str(exc), hint, EXIT_LOCAL_IO


@contextmanager
def reported(debug: bool, what: str | None = None) -> Iterator[None]:
    """Turn errors into one readable line and an exit code (or a traceback with --debug)."""
    try:
        yield
    # An except clause is evaluated only when an exception arrives: typer stays unloaded here.
    except _exit_type():
        raise
    except Terminated:
        err_console.print("terminated")
        raise _exit_type()(EXIT_TERMINATED) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise _exit_type()(EXIT_INTERRUPTED) from None
    except (DiscogsAPIError, LocalIOError, OSError, ValueError, sqlite3.Error) as exc:
        if debug:
            raise
        message, hint, code = explain(exc, what)
        fail(message, hint, code)


def command_settings(
    *, no_cache: bool = False, trust_env_file: bool = False, base_url: str | None = None
) -> DiscogsSettings:
    """The settings of a command: `DISCOGS_*` and `.env`, with the command's switches; logging
    configured from them.

    Raises:
        SettingsError: a bad value (one line naming the variable), or the base-URL rule.
    """
    overrides: dict[str, Any] = {}
    if no_cache:
        overrides["cache"] = "off"
    if trust_env_file:
        overrides["trust_env_file"] = True
    if base_url is not None:  # --base-url or DISCOGS_BASE_URL: the user's own choice
        overrides["base_url"] = base_url
    settings = load_settings(**overrides)
    config = settings.logger_config()
    # Log records go to the console only when a level was asked for: a command's output is
    # its own; files whenever DISCOGS_LOG_DIR is set.
    if settings.source_of("log_level") == "default":
        config = config.model_copy(update={"console": False})
    if config.console or config.dir is not None:
        configure_logging(config)
    return settings


def _check_cache(settings: DiscogsSettings) -> None:
    """A cache folder that cannot be written would fail every request: say so before any."""
    if not settings.cache_enabled or settings.cache_backend != "sqlite":
        return
    folder = Path(settings.cache_dir).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(
            f"cannot use the cache folder {str(folder)!r} (DISCOGS_CACHE_DIR): "
            f"{exc.strerror or exc}",
            CACHE_HINT,
            EXIT_LOCAL_IO,
        )
    database = folder / "http-cache.db"
    writable = os.access(folder, os.W_OK) and (
        not database.exists() or os.access(database, os.W_OK)
    )
    if not writable:
        fail(
            f"cannot write the cache in {str(folder)!r} (DISCOGS_CACHE_DIR): permission denied",
            CACHE_HINT,
            EXIT_LOCAL_IO,
        )


def choose_credential(
    token: str | None, settings: DiscogsSettings, store: TokenStore | None = None
) -> tuple[Credential, OAuth1Auth | None]:
    """Which credential a command uses and why: `--token`/`DISCOGS_TOKEN`, then OAuth or key
    and secret from the settings, then the login saved by `musicagent auth login`."""
    if token is not None:
        return Credential("token", "from --token or DISCOGS_TOKEN"), None
    if settings.oauth_token is not None and settings.consumer_key is not None:
        return Credential("oauth", _origin(settings, "oauth_token")), None
    if settings.token is not None:
        return Credential("token", _origin(settings, "token")), None
    login = _saved_login(store or TokenStore())
    if login is not None:
        auth = login.auth()
        if auth is None and settings.consumer_key and settings.consumer_secret:
            key = settings.consumer_key.get_secret_value()
            auth = login.access.auth(key, settings.consumer_secret.get_secret_value())
        if auth is not None:
            return Credential("oauth", "saved by `musicagent auth login`"), auth
    if settings.consumer_key is not None and settings.consumer_secret is not None:
        return Credential("key-secret", _origin(settings, "consumer_key")), None
    return Credential("none", "no token, no saved login, no application key"), None


def _saved_login(store: TokenStore) -> SavedLogin | None:
    try:
        return store.load_login()
    except ValueError:
        return None  # an unreadable file is reported by `auth status`, not by every command


def _origin(settings: DiscogsSettings, field: str) -> str:
    variable = f"DISCOGS_{field.upper()}"
    return {
        "environment": f"{variable} in the environment",
        ".env": f"{variable} in .env",
        "argument": "given as an argument",
        "default": "",
    }[settings.source_of(field)]


def open_client(
    base_url: str | None,
    token: str | None,
    *,
    no_cache: bool = False,
    trust_env_file: bool = False,
    settings: DiscogsSettings | None = None,
    **options: Any,
) -> Discogs:
    """A client from the command's options, settings, and the saved OAuth login."""
    global _last_credential
    settings = settings or command_settings(
        no_cache=no_cache, trust_env_file=trust_env_file, base_url=base_url
    )
    credential, oauth = choose_credential(token, settings)
    _last_credential = credential
    if base_url is None:  # a base URL given by the user themselves needs no confirmation
        settings.check_base_url_trust(credential_elsewhere=token is not None or oauth is not None)
    _check_cache(settings)
    return Discogs(token, base_url=base_url, settings=settings, oauth=oauth, **options)


def use_credential(credential: Credential) -> None:
    """Record the credential a command uses without `open_client` (for error hints)."""
    global _last_credential
    _last_credential = credential


def last_credential() -> Credential:
    """The credential the last `open_client` chose."""
    return _last_credential


def print_json(data: Any) -> None:
    """Raw JSON on stdout, nothing else (safe to pipe, harmless on a terminal)."""
    sys.stdout.write(json_text(data) + "\n")


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """`1 request`, `2 requests`."""
    return f"{count} {word if count == 1 else plural_word or word + 's'}"


__all__ = [
    "EXIT_AUTH",
    "EXIT_BAD_INPUT",
    "EXIT_LOCAL_IO",
    "BaseUrlOption",
    "Credential",
    "DebugOption",
    "JsonOption",
    "NoCacheOption",
    "Terminated",
    "TokenOption",
    "TrustEnvFileOption",
    "choose_credential",
    "command_settings",
    "console",
    "err_console",
    "explain",
    "fail",
    "open_client",
    "plural",
    "print_json",
    "reported",
]
