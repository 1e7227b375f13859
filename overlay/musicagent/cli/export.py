"""`musicagent export …`: the main job — a whole list to CSV, JSON, JSON Lines or SQLite."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from discogs_facade import OPERATIONS

from musicagent.cli._app import app
from musicagent.cli._options import (
    BaseUrlOption,
    DebugOption,
    NoCacheOption,
    TokenOption,
    console,
    err_console,
    open_client,
    reported,
)
from musicagent.cli.progress import ExportProgress, format_duration
from musicagent.client import Discogs
from musicagent.errors import DiscogsAPIError
from musicagent.export import ExportJob, custom_field_names, exporter_for, page_source
from musicagent.export.atomic import checked_destination
from musicagent.settings import DiscogsSettings

export_app = typer.Typer(
    help="Export a collection, wantlist, inventory, orders, a search or a discography.",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


class Format(StrEnum):
    """Output formats."""

    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    sqlite = "sqlite"


_EXTENSIONS = {"csv": "csv", "json": "json", "jsonl": "jsonl", "sqlite": "sqlite"}

FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format", "-f", help="csv, json, jsonl or sqlite (default DISCOGS_DEFAULT_EXPORT_FORMAT)."
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Output file (default DISCOGS_EXPORT_DIR/<kind>-<name>.<format>)."
    ),
]
ResumeOption = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted export from its checkpoint.")
]
ExcelOption = Annotated[
    bool, typer.Option("--excel", help="CSV for Excel: byte-order mark and CRLF line ends.")
]
CompactOption = Annotated[bool, typer.Option("--compact", help="Minified JSON.")]


@dataclass(frozen=True)
class ExportSpec:
    """What to export: an operation, its arguments, and names for the file and the checkpoint."""

    kind: str
    name: str
    operation_id: str
    method: Callable[[Discogs], Callable[..., Any]]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    what: str


def _run(
    spec: ExportSpec,
    *,
    fmt: Format | None,
    out: Path | None,
    resume: bool,
    excel: bool,
    compact: bool,
    base_url: str | None,
    token: str | None,
    no_cache: bool,
    debug: bool,
) -> None:
    started = time.monotonic()
    with reported(debug, what=spec.what):
        settings = DiscogsSettings()
        chosen = (fmt or Format(settings.default_export_format)).value
        if out is None:
            # The export folder is ours to create; a folder named with --out must exist.
            settings.export_dir.mkdir(parents=True, exist_ok=True)
        default_name = f"{spec.kind}-{_slug(spec.name)}.{_EXTENSIONS[chosen]}"
        # Refuse an unwritable destination before spending any request on it.
        destination = checked_destination(out or settings.export_dir / default_name)
        op = OPERATIONS[spec.operation_id]
        options: dict[str, Any] = {}
        if chosen in ("csv", "sqlite"):
            options["item_model"] = op.item_model
        if chosen == "csv" and excel:
            options["excel"] = True
        if chosen == "json" and compact:
            options["pretty"] = False
        if chosen == "sqlite":
            options["table"] = spec.kind.replace("-", "_")
        with open_client(base_url, token, no_cache=no_cache) as client:
            if spec.kind == "collection" and chosen in ("csv", "sqlite"):
                options["field_names"] = _field_names(client, spec.args[0])
            exporter = exporter_for(chosen, **options)
            fetch = page_source(
                spec.method(client), *spec.args, items_key=op.items_key or "", **spec.kwargs
            )
            with ExportProgress(
                f"{spec.kind} {spec.name}", lambda: client.rate_limit, err_console
            ) as progress:
                job = ExportJob(
                    fetch_page=fetch,
                    exporter=exporter,
                    destination=destination,
                    kind=spec.kind,
                    query={"args": list(spec.args), **spec.kwargs},
                    on_progress=progress.update,
                )
                try:
                    result = job.run(resume=resume)
                except (KeyboardInterrupt, DiscogsAPIError):
                    if job.checkpoint_path.exists():
                        err_console.print(
                            f"[yellow]interrupted:[/] progress is saved; run the same command "
                            f"with --resume to continue into {destination}"
                        )
                    raise
            stats = client.stats.snapshot()
    elapsed = time.monotonic() - started
    console.print(
        f"Exported {result.items_written} items to {result.destination} "
        f"({chosen}, {result.bytes_written} bytes) in {format_duration(elapsed)}: "
        f"{stats['requests']} requests, {stats['cache_hits']} cache hits, "
        f"{stats['throttled']} × 429",
        highlight=False,
        soft_wrap=True,
    )


def _field_names(client: Discogs, username: str) -> dict[int | str, str] | None:
    """Names of the collection's custom fields (notes columns); ids when they are private."""
    try:
        return custom_field_names(client.collection.list_collection_fields(username))
    except DiscogsAPIError:
        return None


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip())
    return cleaned.strip("._") or "export"


def _common(
    fmt: FormatOption = None,
    out: OutOption = None,
    resume: ResumeOption = False,
    excel: ExcelOption = False,
    compact: CompactOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> dict[str, Any]:
    return {
        "fmt": fmt,
        "out": out,
        "resume": resume,
        "excel": excel,
        "compact": compact,
        "base_url": base_url,
        "token": token,
        "no_cache": no_cache,
        "debug": debug,
    }


@export_app.command("collection")
def collection(
    username: Annotated[str, typer.Argument(help="Whose collection.")],
    folder: Annotated[int, typer.Option("--folder", min=0, help="Folder id; 0 is All.")] = 0,
    fmt: FormatOption = None,
    out: OutOption = None,
    resume: ResumeOption = False,
    excel: ExcelOption = False,
    compact: CompactOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> None:
    """Export a user's collection (a folder of it; 0 = everything).

    Examples:

      musicagent export collection rodney --format csv --out collection.csv

      musicagent export collection rodney --folder 3 --format sqlite

      musicagent export collection rodney --resume
    """
    spec = ExportSpec(
        "collection",
        username if folder == 0 else f"{username}-{folder}",
        "get_collection_items_by_folder",
        lambda c: c.collection.get_collection_items_by_folder,
        (username, folder),
        {},
        f"user {username!r} (or folder {folder})",
    )
    _run(spec, **_common(fmt, out, resume, excel, compact, base_url, token, no_cache, debug))


@export_app.command("wantlist")
def wantlist(
    username: Annotated[str, typer.Argument(help="Whose wantlist.")],
    fmt: FormatOption = None,
    out: OutOption = None,
    resume: ResumeOption = False,
    excel: ExcelOption = False,
    compact: CompactOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> None:
    """Export a user's wantlist.

    Example:

      musicagent export wantlist rodney --format jsonl
    """
    spec = ExportSpec(
        "wantlist",
        username,
        "get_wantlist",
        lambda c: c.wantlist.get_wantlist,
        (username,),
        {},
        f"user {username!r}",
    )
    _run(spec, **_common(fmt, out, resume, excel, compact, base_url, token, no_cache, debug))


@export_app.command("inventory")
def inventory(
    username: Annotated[str, typer.Argument(help="Whose inventory (seller).")],
    status: Annotated[
        str | None,
        typer.Option(help="All, Deleted, Draft, Expired, For Sale, Sold, Suspended, Violation."),
    ] = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    resume: ResumeOption = False,
    excel: ExcelOption = False,
    compact: CompactOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> None:
    """Export a seller's inventory (owners see every status).

    Example:

      musicagent export inventory my-shop --status "For Sale" --format csv --excel
    """
    kwargs = {"status": status} if status else {}
    spec = ExportSpec(
        "inventory",
        username,
        "get_inventory",
        lambda c: c.marketplace.get_inventory,
        (username,),
        kwargs,
        f"user {username!r}",
    )
    _run(spec, **_common(fmt, out, resume, excel, compact, base_url, token, no_cache, debug))


@export_app.command("orders")
def orders(
    status: Annotated[
        str | None, typer.Option(help="An order status, or All (default: every order).")
    ] = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    resume: ResumeOption = False,
    excel: ExcelOption = False,
    compact: CompactOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> None:
    """Export your marketplace orders (as the seller).

    Example:

      musicagent export orders --status "Payment Received" --format sqlite
    """
    kwargs = {"status": status} if status else {}
    spec = ExportSpec(
        "orders",
        status or "all",
        "list_orders",
        lambda c: c.marketplace.list_orders,
        (),
        kwargs,
        "orders",
    )
    _run(spec, **_common(fmt, out, resume, excel, compact, base_url, token, no_cache, debug))


@export_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to search for.")],
    type_: Annotated[
        str | None, typer.Option("--type", help="release, master, artist or label.")
    ] = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    resume: ResumeOption = False,
    excel: ExcelOption = False,
    compact: CompactOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> None:
    """Export every result of a database search.

    Example:

      musicagent export search "detroit techno" --type release --format csv
    """
    kwargs: dict[str, Any] = {"q": query}
    if type_:
        kwargs["type"] = type_
    spec = ExportSpec(
        "search",
        query,
        "search",
        lambda c: c.database.search,
        (),
        kwargs,
        f"search {query!r}",
    )
    _run(spec, **_common(fmt, out, resume, excel, compact, base_url, token, no_cache, debug))


@export_app.command("artist-releases")
def artist_releases(
    artist_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="Artist id.")],
    fmt: FormatOption = None,
    out: OutOption = None,
    resume: ResumeOption = False,
    excel: ExcelOption = False,
    compact: CompactOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> None:
    """Export an artist's discography (releases and masters).

    Example:

      musicagent export artist-releases 108713 --format json
    """
    spec = ExportSpec(
        "artist-releases",
        str(artist_id),
        "get_artist_releases",
        lambda c: c.database.get_artist_releases,
        (artist_id,),
        {},
        f"artist {artist_id}",
    )
    _run(spec, **_common(fmt, out, resume, excel, compact, base_url, token, no_cache, debug))


@export_app.command("label-releases")
def label_releases(
    label_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="Label id.")],
    fmt: FormatOption = None,
    out: OutOption = None,
    resume: ResumeOption = False,
    excel: ExcelOption = False,
    compact: CompactOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    debug: DebugOption = False,
) -> None:
    """Export a label's releases.

    Example:

      musicagent export label-releases 1 --format csv
    """
    spec = ExportSpec(
        "label-releases",
        str(label_id),
        "get_label_releases",
        lambda c: c.database.get_label_releases,
        (label_id,),
        {},
        f"label {label_id}",
    )
    _run(spec, **_common(fmt, out, resume, excel, compact, base_url, token, no_cache, debug))
