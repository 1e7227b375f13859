"""`musicagent export …`: the main job — a whole list to CSV, JSON, JSON Lines or SQLite."""

from __future__ import annotations

import inspect
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from discogs_facade import OPERATIONS

from musicagent.cli._app import app
from musicagent.cli._options import (
    EXIT_BAD_INPUT,
    EXIT_LOCAL_IO,
    BaseUrlOption,
    DebugOption,
    NoCacheOption,
    Terminated,
    TokenOption,
    TrustEnvFileOption,
    command_settings,
    console,
    err_console,
    fail,
    open_client,
    plural,
    reported,
)
from musicagent.cli.progress import ExportProgress, format_duration
from musicagent.cli.safe_text import markup, text
from musicagent.client import Discogs
from musicagent.errors import DiscogsAPIError
from musicagent.export import (
    Destination,
    ExportJob,
    custom_field_names,
    exporter_for,
    page_source,
    resolve_destination,
)
from musicagent.export.sqlite_exporter import KIND_KEYS

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
    str | None,
    typer.Option(
        "--out",
        "-o",
        help="Output file, or - for standard output (default "
        "DISCOGS_EXPORT_DIR/<kind>-<name>.<format>).",
    ),
]
ResumeOption = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted export from its checkpoint.")
]
RestartOption = Annotated[
    bool, typer.Option("--restart", help="Discard an interrupted export's checkpoint; start over.")
]
NoFormulaGuardOption = Annotated[
    bool,
    typer.Option(
        "--no-formula-guard",
        help="CSV: write cells starting with = + - @ as they are (for programs, not spreadsheets).",
    ),
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
    out: str | None,
    resume: bool,
    restart: bool,
    excel: bool,
    compact: bool,
    no_formula_guard: bool,
    base_url: str | None,
    token: str | None,
    no_cache: bool,
    trust_env_file: bool,
    debug: bool,
) -> None:
    started = time.monotonic()
    with reported(debug, what=spec.what), _sigterm_as_interrupt():
        settings = command_settings(
            no_cache=no_cache, trust_env_file=trust_env_file, base_url=base_url
        )
        chosen = (fmt or Format(settings.default_export_format)).value
        _check_format_options(chosen, excel=excel, compact=compact, guard_off=no_formula_guard)
        if resume and restart:
            fail("--resume and --restart exclude each other", "choose one", EXIT_BAD_INPUT)
        target = _destination(spec, chosen, out, settings)
        options = _exporter_options(spec, chosen, excel, compact, no_formula_guard)
        job_destination = target if target.stream else target.path
        with open_client(base_url, token, settings=settings) as client:
            if spec.kind == "collection" and chosen in ("csv", "sqlite"):
                options["field_names"] = _field_names(client, spec.args[0])
            exporter = exporter_for(chosen, **options)
            op = OPERATIONS[spec.operation_id]
            fetch = page_source(
                spec.method(client), *spec.args, items_key=op.items_key or "", **spec.kwargs
            )
            with ExportProgress(
                f"{spec.kind} {spec.name}", lambda: client.rate_limit, err_console
            ) as progress:
                job = ExportJob(
                    fetch_page=fetch,
                    exporter=exporter,
                    destination=job_destination,
                    kind=spec.kind,
                    query={"args": list(spec.args), **spec.kwargs},
                    on_progress=progress.update,
                )
                _refuse_silent_restart(job, resume=resume, restart=restart)
                try:
                    result = job.run(resume=resume)
                except (KeyboardInterrupt, DiscogsAPIError):
                    if not target.stream and job.checkpoint_path.exists():
                        err_console.print(
                            "[yellow]interrupted:[/] progress is saved; run the same command "
                            f"with --resume to continue into {markup(target.label)}",
                            soft_wrap=True,
                        )
                    raise
            stats = client.stats
    elapsed = time.monotonic() - started
    rows = f" ({plural(result.rows, 'row')})" if result.rows is not None else ""
    summary = (
        f"Exported {plural(result.items_written, 'item')}{rows} to {target.label} "
        f"({chosen}, {plural(result.bytes_written, 'byte')}) in {format_duration(elapsed)}: "
        f"{plural(stats.requests, 'request')}, {plural(stats.cache_hits, 'cache hit')}, "
        f"{stats.throttled} × 429"
    )
    # With the export itself on standard output, the summary must not end up inside it.
    (err_console if target.descriptor == 1 else console).print(text(summary), soft_wrap=True)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops an export like Ctrl-C does: the checkpoint is kept and the user told."""

    def stop(signum: int, frame: object) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_format_options(chosen: str, *, excel: bool, compact: bool, guard_off: bool) -> None:
    """Options of another format are a mistake to point out, not to ignore."""
    for flag, used, owner in (
        ("--excel", excel, "csv"),
        ("--no-formula-guard", guard_off, "csv"),
        ("--compact", compact, "json"),
    ):
        if used and chosen != owner:
            fail(
                f"{flag} applies to --format {owner} only, not {chosen}",
                f"drop {flag}, or export with --format {owner}",
                EXIT_BAD_INPUT,
            )


def _destination(spec: ExportSpec, chosen: str, out: str | None, settings: Any) -> Destination:
    """Where the export goes, checked before any request (see the README's file rules)."""
    if out is not None:
        target = resolve_destination(out)
    else:
        folder = Path(settings.export_dir).expanduser()
        _ensure_export_dir(folder)
        target = resolve_destination(
            folder / f"{spec.kind}-{_slug(spec.name)}.{_EXTENSIONS[chosen]}"
        )
    if chosen == "sqlite" and target.stream:
        fail(
            f"the sqlite format needs a file of its own, not {target.label}",
            "give --out a file name",
            EXIT_BAD_INPUT,
        )
    if not target.stream and not os.access(target.path.parent, os.W_OK):
        fail(
            f"cannot write to the folder {str(target.path.parent)!r}: permission denied",
            "choose another --out, or DISCOGS_EXPORT_DIR",
            EXIT_LOCAL_IO,
        )
    return target


def _ensure_export_dir(folder: Path) -> None:
    """The default export folder is created (0700: exports hold private data) when the folder
    it lives in exists; a longer missing path is a typo to report, like a missing --out folder."""
    if folder.is_dir():
        return
    if folder.exists():
        fail(f"DISCOGS_EXPORT_DIR={folder} is not a folder", None, EXIT_BAD_INPUT)
    if not folder.parent.is_dir():
        fail(
            f"DISCOGS_EXPORT_DIR={folder}: its parent folder {str(folder.parent)!r} does not exist",
            "create it, or set DISCOGS_EXPORT_DIR to an existing folder, or pass --out",
            EXIT_BAD_INPUT,
        )
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        fail(
            f"cannot create DISCOGS_EXPORT_DIR={folder}: {exc.strerror or exc}",
            "set DISCOGS_EXPORT_DIR to a folder you can write, or pass --out",
            EXIT_LOCAL_IO,
        )


def _exporter_options(
    spec: ExportSpec, chosen: str, excel: bool, compact: bool, guard_off: bool
) -> dict[str, Any]:
    op = OPERATIONS[spec.operation_id]
    options: dict[str, Any] = {}
    if chosen in ("csv", "sqlite"):
        options["item_model"] = op.item_model
    if chosen == "csv":
        options["excel"] = excel
        options["formula_guard"] = not guard_off
    if chosen == "json" and compact:
        options["pretty"] = False
    if chosen == "sqlite":
        options["table"] = spec.kind.replace("-", "_")
        options["key"] = KIND_KEYS[spec.kind]
    return options


def _refuse_silent_restart(job: ExportJob, *, resume: bool, restart: bool) -> None:
    """An interrupted export's checkpoint is never thrown away without being asked."""
    if resume or restart or job.target.stream or not job.checkpoint_path.exists():
        return
    fail(
        f"an interrupted export into {job.destination} left a checkpoint "
        f"({job.checkpoint_path.name})",
        "add --resume to continue it, or --restart to start over",
        EXIT_BAD_INPUT,
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
    _param("restart", RestartOption, False),
    _param("excel", ExcelOption, False),
    _param("compact", CompactOption, False),
    _param("no_formula_guard", NoFormulaGuardOption, False),
    _param("base_url", BaseUrlOption, None),
    _param("token", TokenOption, None),
    _param("no_cache", NoCacheOption, False),
    _param("trust_env_file", TrustEnvFileOption, False),
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
