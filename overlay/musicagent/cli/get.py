"""`musicagent get` and `musicagent search`: look things up and print them."""

from __future__ import annotations

from enum import StrEnum
from itertools import islice
from typing import Annotated, Any

import typer

from musicagent.cli._app import app
from musicagent.cli._options import (
    BaseUrlOption,
    DebugOption,
    JsonOption,
    NoCacheOption,
    TokenOption,
    TrustEnvFileOption,
    console,
    open_client,
    print_json,
    reported,
)
from musicagent.cli.safe_text import clean
from musicagent.cli.views import render, search_table
from musicagent.errors import InvalidParameterError
from musicagent.pagination import PAGE_SIZE


class Kind(StrEnum):
    """What `musicagent get` can fetch."""

    release = "release"
    master = "master"
    artist = "artist"
    label = "label"
    listing = "listing"
    order = "order"


def _fetch(client: Any, kind: Kind, ident: str) -> Any:
    db, market = client.database, client.marketplace
    if kind is Kind.order:
        return market.get_order(ident)
    number = _as_id(ident)
    calls = {
        Kind.release: db.get_release,
        Kind.master: db.get_master,
        Kind.artist: db.get_artist,
        Kind.label: db.get_label,
        Kind.listing: market.get_listing,
    }
    return calls[kind](number)


def _as_id(ident: str) -> int:
    if not (ident.isascii() and ident.isdigit()) or int(ident) < 1:
        raise InvalidParameterError(
            f"ID must be a positive whole number (1, 2, …), got {clean(ident)!r}",
            parameter="ID",
            allowed="1, 2, …",
        )
    return int(ident)


# A negative id (`get release -1`) is an argument to refuse in words, not an unknown option.
@app.command("get", context_settings={"ignore_unknown_options": True})
def get(
    kind: Annotated[Kind, typer.Argument(help="What to fetch.")],
    ident: Annotated[str, typer.Argument(metavar="ID", help="Its Discogs id (orders: '1-1').")],
    json: JsonOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    trust_env_file: TrustEnvFileOption = False,
    debug: DebugOption = False,
) -> None:
    """Fetch one release, master, artist, label, listing or order and show it.

    Examples:

      musicagent get release 249504

      musicagent get artist 108713 --json | jq .name

      musicagent get order 1-1 --token $DISCOGS_TOKEN
    """
    with reported(debug, what=f"{kind.value} {ident}"):
        number_or_order = ident if kind is Kind.order else _as_id(ident)  # before any request
        # The readable view asks Discogs for plain text: no [b]…[/b] or [a=…] markup to show.
        text_format = "discogs" if json else "plaintext"
        with open_client(
            base_url,
            token,
            no_cache=no_cache,
            trust_env_file=trust_env_file,
            text_format=text_format,
        ) as client:
            data = _fetch(client, kind, str(number_or_order)).to_dict()
        if json:
            print_json(data)
        else:
            console.print(render(kind.value, data))


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    type_: Annotated[
        str | None,
        typer.Option("--type", help="release, master, artist or label.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many results at most.")] = 20,
    json: JsonOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    trust_env_file: TrustEnvFileOption = False,
    debug: DebugOption = False,
) -> None:
    """Search the Discogs database (needs credentials).

    Examples:

      musicagent search "nirvana nevermind" --type release

      musicagent search "warp" --type label --limit 5 --json
    """
    with reported(debug):
        with open_client(
            base_url, token, no_cache=no_cache, trust_env_file=trust_env_file
        ) as client:
            if limit <= PAGE_SIZE:  # one request, sized to what is wanted
                page = client.database.search(q=query, type=type_, per_page=limit)  # type: ignore[arg-type]
                found = page.results or []
            else:
                found = list(islice(client.database.iter_search(q=query, type=type_), limit))  # type: ignore[arg-type]
            results = [r.to_dict() for r in found]
        if json:
            print_json(results)
        elif not results:
            console.print("No results.")
        else:
            console.print(search_table(results))
