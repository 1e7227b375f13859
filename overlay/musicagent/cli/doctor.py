"""`musicagent doctor`: is everything set up? One screen, and a non-zero exit on a problem.

Shows the resolved settings and where each came from (a flag, the environment, `.env`, or the
default; secrets only as "set"), the credential in use and who Discogs says it belongs to,
whether the base URL answers, the rate budget, the cache, and the modes of the files the
project writes. The checks are plain functions returning `Check`s; the command only prints.
"""

from __future__ import annotations

import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from musicagent.cli._app import app
from musicagent.cli._options import (
    EXIT_API_ERROR,
    EXIT_AUTH,
    EXIT_UNAVAILABLE,
    BaseUrlOption,
    JsonOption,
    TokenOption,
    console,
    print_json,
)

if TYPE_CHECKING:
    from musicagent.client import Discogs
    from musicagent.settings import DiscogsSettings

Status = Literal["ok", "warn", "problem"]

ALWAYS_SHOWN = frozenset({"token", "base_url", "cache", "cache_dir", "rate_limit_requests"})


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: what was looked at, how it stands, and the detail (never a secret)."""

    name: str
    status: Status
    detail: str
    exit_code: int = 0
    """The documented exit code a problem here maps to (0 unless a problem)."""


@dataclass(frozen=True, slots=True)
class SettingRow:
    """One resolved setting and where its value came from."""

    name: str
    value: str
    source: str


def setting_rows(settings: DiscogsSettings, flags: dict[str, str | None]) -> list[SettingRow]:
    """Every setting with its value (secrets shown only as set/unset) and its source."""
    from pydantic import SecretStr

    rows = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        env = f"DISCOGS_{name.upper()}"
        if flags.get(name) is not None and flags[name] != os.environ.get(env):
            source = f"--{name.replace('_', '-')}"
            value = flags[name] if name != "token" else SecretStr(str(flags[name]))
        elif os.environ.get(env) or flags.get(name) is not None:
            source = f"environment ({env})"
        elif name in settings.model_fields_set:
            source = ".env file"
        else:
            source = "default"
        shown = (
            ("set" if value.get_secret_value() else "empty")
            if isinstance(value, SecretStr)
            else ("unset" if value is None else str(value))
        )
        rows.append(SettingRow(name, shown, source))
    return rows


def check_connection(client: Discogs) -> list[Check]:
    """Credential and identity, reachability of the base URL, and the rate budget."""
    from musicagent.errors import AuthenticationError, DiscogsAPIError, NetworkError

    checks = []
    auth = client.auth
    kind = type(auth).__name__ if auth is not None else "none"
    try:
        if auth is not None:
            me = client.users.get_identity()
            checks.append(Check("credential", "ok", f"{auth!r}: signed in as {me.username}"))
        else:
            client.database.get_release(1)
            checks.append(
                Check(
                    "credential",
                    "warn",
                    "none: anonymous access (lower rate limit, no user operations); "
                    "set DISCOGS_TOKEN or run `musicagent auth login`",
                )
            )
        checks.append(Check("base URL", "ok", f"{client.base_url} answers"))
    except AuthenticationError as exc:
        checks.append(Check("credential", "problem", f"{kind} refused: {exc.message}", EXIT_AUTH))
        checks.append(Check("base URL", "ok", f"{client.base_url} answers"))
    except NetworkError as exc:
        checks.append(
            Check("base URL", "problem", f"{client.base_url} unreachable: {exc}", EXIT_UNAVAILABLE)
        )
    except DiscogsAPIError as exc:
        checks.append(Check("base URL", "problem", f"{client.base_url}: {exc}", EXIT_API_ERROR))
    state = client.rate_limit
    if state is None:
        checks.append(Check("rate budget", "warn", "rate limiting is switched off"))
    else:
        checks.append(
            Check(
                "rate budget",
                "ok",
                f"{state.remaining} of {state.limit} left in the moving {state.window:g} s window",
            )
        )
    return checks


def check_cache(settings: DiscogsSettings) -> Check:
    """Where the cache is, how many responses it holds and how big it is."""
    from musicagent.cache import cache_info

    try:
        info = cache_info(settings)
    except Exception as exc:  # a broken cache must not stop the rest of the report
        return Check("cache", "problem", f"cannot be read: {exc}", EXIT_API_ERROR)
    size = "unknown size" if info.size_bytes is None else f"{info.size_bytes} bytes"
    state = "on" if info.enabled else "off"
    detail = f"{state}, {info.backend} at {info.location}: {info.entries} entries, {size}"
    return Check("cache", "ok", detail)


def written_files(settings: DiscogsSettings) -> list[tuple[Path, bool]]:
    """Every file or folder the project writes that exists now, and whether it holds secrets."""
    from musicagent.auth import TokenStore
    from musicagent.cache import cache_file_path

    credentials = TokenStore().path
    candidates: list[tuple[Path, bool]] = [(credentials.parent, True), (credentials, True)]
    if settings.cache_backend == "sqlite":
        db = cache_file_path(settings)
        candidates += [(db.parent, False)]
        candidates += [(db.with_name(db.name + suffix), False) for suffix in ("", "-wal", "-shm")]
    if settings.rate_limit_state_file is not None:
        candidates.append((Path(settings.rate_limit_state_file).expanduser(), False))
    if settings.log_dir is not None:
        log_dir = Path(settings.log_dir).expanduser()
        candidates.append((log_dir, False))
        candidates += [(p, False) for p in sorted(log_dir.glob(settings.log_file + "*"))]
    candidates.append((Path(settings.export_dir), False))
    return [(path, secret) for path, secret in candidates if path.exists()]


def check_mode(path: Path, secret: bool) -> Check:
    """Secrets readable only by the user; nothing writable by others."""
    mode = stat.S_IMODE(path.stat().st_mode)
    shown = f"{path} ({mode:o})"
    if secret and not path.is_dir() and mode & 0o077:
        return Check("file mode", "problem", f"{shown} holds OAuth tokens: chmod 600", 1)
    if mode & 0o002 and not (path.is_dir() and path.stat().st_mode & stat.S_ISVTX):
        return Check("file mode", "problem", f"{shown} is writable by anyone: chmod o-w", 1)
    if secret and path.is_dir() and mode & 0o077:
        return Check("file mode", "warn", f"{shown} holds your OAuth tokens: chmod 700")
    return Check("file mode", "ok", shown)


def _render(rows: list[SettingRow], checks: list[Check]) -> None:
    from rich.table import Table

    table = Table(title="Settings", title_justify="left", show_edge=False)
    for column in ("setting", "value", "from"):
        table.add_column(column, overflow="fold")
    # One screen: what was set somewhere, and the defaults that say where things go.
    for row in rows:
        if row.source == "default" and row.name not in ALWAYS_SHOWN:
            continue
        table.add_row(
            row.name, row.value, row.source, style="dim" if row.source == "default" else None
        )
    console.print(table)
    marks = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "problem": "[bold red]PROBLEM[/]"}
    for check in checks:
        console.print(f"{marks[check.status]:>22}  {check.name}: {check.detail}", highlight=False)


@app.command("doctor")
def doctor(
    json: JsonOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Check the setup: settings and their sources, credential, connection, budget, cache, files.

    Exits 0 when nothing is wrong (warnings allowed), else with the exit code of the first
    problem (3 credentials refused, 5 unreachable, 1 otherwise).

    Example:

      musicagent doctor
    """
    from musicagent.cli._options import open_client
    from musicagent.errors import DiscogsAPIError
    from musicagent.settings import DiscogsSettings

    checks: list[Check] = []
    try:
        settings = DiscogsSettings()
    except ValueError as exc:
        console.print(f"[bold red]PROBLEM[/] settings: {exc}", highlight=False)
        raise typer.Exit(2) from None
    rows = setting_rows(settings, {"base_url": base_url, "token": token})
    try:
        from musicagent.retry import RetryPolicy

        # One retry: a doctor reports an unreachable server, it does not wait minutes for it.
        policy = RetryPolicy(max_attempts=2)
        with open_client(base_url, token, no_cache=True, retry_policy=policy) as client:
            checks += check_connection(client)
    except (DiscogsAPIError, ValueError) as exc:
        checks.append(Check("client", "problem", str(exc), 2))
    checks.append(check_cache(settings))
    checks += [check_mode(path, secret) for path, secret in written_files(settings)]
    if json:
        print_json({"settings": [asdict(r) for r in rows], "checks": [asdict(c) for c in checks]})
    else:
        _render(rows, checks)
    problems = [c for c in checks if c.status == "problem"]
    if problems:
        raise typer.Exit(problems[0].exit_code or 1)
