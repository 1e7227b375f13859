"""`musicagent cache info|clear`: look at and empty the HTTP cache."""

from __future__ import annotations

import typer

from musicagent.cache import cache_info, clear_cache
from musicagent.cli._app import app
from musicagent.cli._options import DebugOption, JsonOption, console, print_json, reported
from musicagent.settings import DiscogsSettings

cache_app = typer.Typer(help="Inspect or empty the HTTP cache (DISCOGS_CACHE_DIR).")
app.add_typer(cache_app, name="cache")


def _size(size: int | None) -> str:
    if size is None:
        return "unknown"
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


@cache_app.command("info")
def info(json: JsonOption = False, debug: DebugOption = False) -> None:
    """Show where the cache is, how many responses it holds and how big it is.

    Example:

      musicagent cache info
    """
    with reported(debug):
        details = cache_info(DiscogsSettings())
    if json:
        print_json(
            {
                "backend": details.backend,
                "location": details.location,
                "enabled": details.enabled,
                "entries": details.entries,
                "entries_by_kind": details.entries_by_kind,
                "size_bytes": details.size_bytes,
                "oldest": details.oldest.isoformat() if details.oldest else None,
                "newest": details.newest.isoformat() if details.newest else None,
                "problem": details.problem,
            }
        )
        return
    console.print(f"Cache: {details.backend} at {details.location}", highlight=False)
    console.print(f"Enabled: {'yes' if details.enabled else 'no (DISCOGS_CACHE=off)'}")
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(details.entries_by_kind.items()))
    console.print(f"Entries: {details.entries}" + (f" ({kinds})" if kinds else ""))
    console.print(f"Size: {_size(details.size_bytes)}")
    if details.oldest and details.newest:
        console.print(
            f"Oldest: {details.oldest:%Y-%m-%d %H:%M}, newest: {details.newest:%Y-%m-%d %H:%M}"
        )
    if details.problem:
        # Requests go on without the cache; clearing removes a corrupt file.
        console.print(
            f"Problem: {details.problem} (requests skip the cache; "
            "`musicagent cache clear` starts it afresh)",
            highlight=False,
        )


@cache_app.command("clear")
def clear(debug: DebugOption = False) -> None:
    """Delete every cached response (a corrupt cache file is removed and started afresh).

    Example:

      musicagent cache clear
    """
    with reported(debug):
        removed = clear_cache(DiscogsSettings())
    console.print(f"Removed {removed} cached responses.")
