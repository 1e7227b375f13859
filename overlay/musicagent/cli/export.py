"""`musicagent export …`: the main job — a whole list to CSV, JSON, JSON Lines or SQLite."""

from __future__ import annotations

import inspect
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


# --- the commands: one table row per export kind, one factory for their shared options ---------


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


#: Options every export command takes, after its own argument and options.
_SHARED = (
    _param("fmt", FormatOption, None),
    _param("out", OutOption, None),
    _param("resume", ResumeOption, False),
    _param("excel", ExcelOption, False),
    _param("compact", CompactOption, False),
    _param("base_url", BaseUrlOption, None),
    _param("token", TokenOption, None),
    _param("no_cache", NoCacheOption, False),
    _param("debug", DebugOption, False),
)

_USER = Annotated[str, typer.Argument(metavar="USER", help="The Discogs username.")]
_STATUS_FILTER = Annotated[str | None, typer.Option("--status", help="Only this status.")]


@dataclass(frozen=True)
class ExportCommand:
    """One `musicagent export <command>`: its arguments, help, and the export it runs."""

    command: str
    doc: str
    params: tuple[inspect.Parameter, ...]
    spec: Callable[..., ExportSpec]

    def register(self) -> None:
        """Add the command to `musicagent export`, with the shared options appended."""

        def run(**values: Any) -> None:
            shared = {p.name: values.pop(p.name) for p in _SHARED}
            _run(self.spec(**values), **shared)

        run.__signature__ = inspect.Signature([*self.params, *_SHARED])  # type: ignore[attr-defined]
        run.__doc__ = self.doc
        run.__name__ = self.command.replace("-", "_")
        export_app.command(self.command)(run)


def _collection(username: str, folder: int) -> ExportSpec:
    return ExportSpec(
        "collection",
        username if folder == 0 else f"{username}-{folder}",
        "get_collection_items_by_folder",
        lambda c: c.collection.get_collection_items_by_folder,
        (username, folder),
        {},
        f"user {username!r} (or folder {folder})",
    )


def _optional(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v}


COMMANDS = (
    ExportCommand(
        "collection",
        """Export a user's collection (a folder of it; 0 = everything).

        Examples:

          musicagent export collection rodney --format csv --out collection.csv

          musicagent export collection rodney --folder 3 --format sqlite

          musicagent export collection rodney --resume
        """,
        (
            _param("username", _USER),
            _param(
                "folder",
                Annotated[int, typer.Option("--folder", min=0, help="Folder id; 0 is All.")],
                0,
            ),
        ),
        _collection,
    ),
    ExportCommand(
        "wantlist",
        """Export a user's wantlist.

        Example:

          musicagent export wantlist rodney --format jsonl
        """,
        (_param("username", _USER),),
        lambda username: ExportSpec(
            "wantlist",
            username,
            "get_wantlist",
            lambda c: c.wantlist.get_wantlist,
            (username,),
            {},
            f"user {username!r}",
        ),
    ),
    ExportCommand(
        "inventory",
        """Export a seller's inventory (owners see every status).

        Statuses: All, Deleted, Draft, Expired, For Sale, Sold, Suspended, Violation.

        Example:

          musicagent export inventory my-shop --status "For Sale" --format csv --excel
        """,
        (_param("username", _USER), _param("status", _STATUS_FILTER, None)),
        lambda username, status: ExportSpec(
            "inventory",
            username,
            "get_inventory",
            lambda c: c.marketplace.get_inventory,
            (username,),
            _optional(status=status),
            f"user {username!r}",
        ),
    ),
    ExportCommand(
        "orders",
        """Export your marketplace orders (as the seller).

        Example:

          musicagent export orders --status "Payment Received" --format sqlite
        """,
        (_param("status", _STATUS_FILTER, None),),
        lambda status: ExportSpec(
            "orders",
            status or "all",
            "list_orders",
            lambda c: c.marketplace.list_orders,
            (),
            _optional(status=status),
            "orders",
        ),
    ),
    ExportCommand(
        "search",
        """Export every result of a database search.

        Example:

          musicagent export search "detroit techno" --type release --format csv
        """,
        (
            _param("query", Annotated[str, typer.Argument(help="What to search for.")]),
            _param(
                "type_",
                Annotated[
                    str | None,
                    typer.Option("--type", help="release, master, artist or label."),
                ],
                None,
            ),
        ),
        lambda query, type_: ExportSpec(
            "search",
            query,
            "search",
            lambda c: c.database.search,
            (),
            {"q": query, **_optional(type=type_)},
            f"search {query!r}",
        ),
    ),
    ExportCommand(
        "artist-releases",
        """Export an artist's discography (releases and masters).

        Example:

          musicagent export artist-releases 108713 --format json
        """,
        (
            _param(
                "artist_id", Annotated[int, typer.Argument(metavar="ID", min=1, help="Artist id.")]
            ),
        ),
        lambda artist_id: ExportSpec(
            "artist-releases",
            str(artist_id),
            "get_artist_releases",
            lambda c: c.database.get_artist_releases,
            (artist_id,),
            {},
            f"artist {artist_id}",
        ),
    ),
    ExportCommand(
        "label-releases",
        """Export a label's releases.

        Example:

          musicagent export label-releases 1 --format csv
        """,
        (
            _param(
                "label_id", Annotated[int, typer.Argument(metavar="ID", min=1, help="Label id.")]
            ),
        ),
        lambda label_id: ExportSpec(
            "label-releases",
            str(label_id),
            "get_label_releases",
            lambda c: c.database.get_label_releases,
            (label_id,),
            {},
            f"label {label_id}",
        ),
    ),
)

for _command in COMMANDS:
    _command.register()
