"""`musicagent sync USER`, `musicagent value USER`, `musicagent wants buyable USER`: the
account mirror and the first two reports over it."""

from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Self

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from musicagent.cli._app import app
from musicagent.cli._options import (
    BaseUrlOption,
    DebugOption,
    JsonOption,
    NoCacheOption,
    TokenOption,
    TrustEnvFileOption,
    command_settings,
    console,
    err_console,
    open_client,
    plural,
    print_json,
    reported,
)
from musicagent.cli.export import _sigterm_as_interrupt
from musicagent.cli.progress import eta_seconds, format_duration
from musicagent.cli.safe_text import markup, text
from musicagent.errors import InvalidParameterError
from musicagent.export.atomic import replace_into_place, staging_file
from musicagent.mirror import Mirror, default_path
from musicagent.mirror.mirror import DEFAULT_KINDS, parse_choices
from musicagent.mirror.reports import buyable_wants, collection_value
from musicagent.mirror.schema import open_database
from musicagent.ratelimit import RateLimitStatus

_USER = Annotated[str, typer.Argument(metavar="USER", help="The Discogs username.")]
DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="The mirror database (default $XDG_DATA_HOME/musicagent/mirror.db, "
        "else ~/.local/share/musicagent/mirror.db).",
        show_default=False,
    ),
]
CsvOption = Annotated[
    Path | None,
    typer.Option("--csv", help="Also write the rows as a plot-ready CSV file (- for stdout)."),
]

#: Items per request while walking a list: what turns a list's items left into requests left.
_PER_REQUEST = {"collection": 100, "wantlist": 100, "inventory": 100, "orders": 100, "lists": 100}


class SyncProgress:
    """One bar per stage (a list, a hydration stage), with the ETA the rate budget allows."""

    def __init__(self, rate: Any, console: Console) -> None:
        self._rate = rate
        self._started: dict[str, tuple[float, int]] = {}
        self._tasks: dict[str, TaskID] = {}
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}", style="dim"),
            console=console,
        )
        self._running = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._running:
            self._progress.stop()

    def update(self, stage: str, done: int, total: int | None) -> None:
        """After a page or an entity of `stage`."""
        if not self._running:
            self._progress.start()
            self._running = True
        now = time.monotonic()
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(markup(stage), total=total, status="")
            self._started[stage] = (now, done)
        began, first = self._started[stage]
        per_item = (now - began) / (done - first) if done > first else 0.0
        per_request = _PER_REQUEST.get(stage, 1)
        left = 0 if total is None else max(total - done, 0)
        requests_left = -(-left // per_request)
        rate: RateLimitStatus | None = self._rate()
        eta = eta_seconds(requests_left, per_item * per_request, rate)
        status = "done" if left == 0 else f"ETA {format_duration(eta)}"
        self._progress.update(self._tasks[stage], completed=done, total=total, status=status)


@app.command("sync")
def sync(
    username: _USER,
    db: DbOption = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="Lists to sync, comma-separated: collection, wantlist, inventory, orders, "
            "lists (default collection,wantlist).",
        ),
    ] = None,
    hydrate: Annotated[
        str | None,
        typer.Option(
            "--hydrate",
            help="Full bodies to fetch, comma-separated: releases, masters, stats.",
        ),
    ] = None,
    prices: Annotated[
        bool, typer.Option("--prices", help="Store a price snapshot for this run.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Walk every list whole: sees every re-rating, note and folder move at once "
            "(an incremental run re-reads one stored page per list, in turn).",
        ),
    ] = False,
    json: JsonOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    no_cache: NoCacheOption = False,
    trust_env_file: TrustEnvFileOption = False,
    debug: DebugOption = False,
) -> None:
    """Mirror a Discogs account into one SQLite database, and keep it in step.

    The first run reads every list whole; later runs read only what was added, find what was
    removed by count, re-read one stored page per list in turn (for edits in place), and
    continue where an interrupted run stopped.

    Examples:

      musicagent sync rodney

      musicagent sync rodney --only collection,wantlist,inventory --hydrate releases,stats

      musicagent sync rodney --prices --db rodney.db
    """
    started = time.monotonic()
    with reported(debug, what=f"user {username!r}"), _sigterm_as_interrupt():
        kinds = parse_choices(
            only, ("collection", "wantlist", "inventory", "orders", "lists"), "only"
        )
        stages = parse_choices(hydrate, ("releases", "masters", "stats"), "hydrate")
        settings = command_settings(
            no_cache=no_cache, trust_env_file=trust_env_file, base_url=base_url
        )
        path = db or default_path()
        with (
            open_client(base_url, token, settings=settings) as client,
            Mirror(client, path) as mirror,
            SyncProgress(lambda: client.rate_limit, err_console) as progress,
        ):
            try:
                report = mirror.sync(
                    username,
                    only=kinds or DEFAULT_KINDS,
                    hydrate=stages,
                    prices=prices,
                    full=full,
                    on_progress=progress.update,
                )
            except KeyboardInterrupt:
                err_console.print(
                    "[yellow]interrupted:[/] everything fetched so far is saved; run the same "
                    "command again to continue",
                    soft_wrap=True,
                )
                raise
    if json:
        print_json(
            {
                "run_id": report.run_id,
                "database": str(path),
                "lists": {k: vars(v) for k, v in report.lists.items()},
                "hydrated": report.hydrated,
                "snapshots": report.snapshots,
                "requests": report.requests,
                "cache_hits": report.cache_hits,
                "changed_rows": report.changed_rows,
            }
        )
        return
    parts = [
        f"{r.kind} {r.mode} ({plural(r.listed, 'item')}, +{r.added} −{r.removed})"
        for r in report.lists.values()
    ]
    parts += [
        f"{plural(n, stage[:-1] if stage.endswith('s') else stage)} hydrated"
        for stage, n in report.hydrated.items()
    ]
    if report.snapshots:
        parts.append(f"{plural(report.snapshots, 'price')} snapshotted")
    console.print(
        text(
            f"Synced {username} into {path} in {format_duration(time.monotonic() - started)}: "
            f"{'; '.join(parts)}. {plural(report.requests, 'request')}, "
            f"{plural(report.cache_hits, 'cache hit')}, {plural(report.changed_rows, 'row')} "
            "changed"
        ),
        soft_wrap=True,
    )


def _write_csv(target: Path, rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    if str(target) == "-":
        sys.stdout.write(buffer.getvalue())
        return
    # Written beside the target (0600: prices of a private collection) and renamed into place.
    with staging_file(target) as (staged, handle):
        handle.write(buffer.getvalue().encode("utf-8"))
        handle.flush()
    replace_into_place(staged, target)


@app.command("value")
def value(
    username: _USER,
    db: DbOption = None,
    json: JsonOption = False,
    csv_out: CsvOption = None,
    debug: DebugOption = False,
) -> None:
    """What the collection is worth, and how that changed since the previous snapshot.

    Reads the mirror only (run `musicagent sync USER --prices` first).

    Examples:

      musicagent value rodney

      musicagent value rodney --csv value.csv
    """
    with reported(debug):
        connection = open_database(db or default_path())
        try:
            report = collection_value(connection, username)
        finally:
            connection.close()
        if csv_out is not None:
            _write_csv(csv_out, report.history)
            if str(csv_out) == "-":
                return
    if json:
        print_json(
            {
                "username": username,
                "endpoint": report.endpoint,
                "lowest_total": report.lowest_total,
                "change": report.change(),
                "history": report.history,
            }
        )
        return
    if not report.history:
        console.print(
            text(f"No price snapshot of {username} yet: run `musicagent sync {username} --prices`.")
        )
        return
    table = Table(title=text(f"Collection value of {username}"))
    for column in ("", "minimum", "median", "maximum", "lowest-price total", "priced"):
        table.add_column(column)
    labels = ("now", "previous")
    for n, row in enumerate(report.endpoint):
        table.add_row(
            labels[n] + " (Discogs)",
            text(str(row["minimum"])),
            text(str(row["median"])),
            text(str(row["maximum"])),
            "",
            "",
        )
    for n, row in enumerate(report.lowest_total):
        table.add_row(
            labels[n] + " (per release)",
            "",
            "",
            "",
            f"{row['total']} {row['currency'] or ''}".strip(),
            f"{row['priced']} of {row['priced'] + row['unpriced']}",
        )
    console.print(table)
    change = report.change()
    words = [
        f"{name.replace('_', ' ')} {delta:+.2f}"
        for name, delta in change.items()
        if delta is not None
    ]
    if words:
        console.print("Change since the previous snapshot: " + ", ".join(words))


wants_app = typer.Typer(help="Reports over a mirrored wantlist.", no_args_is_help=True)
app.add_typer(wants_app, name="wants")


@wants_app.command("buyable")
def buyable(
    username: _USER,
    max_price: Annotated[
        float | None,
        typer.Option("--max-price", min=0, help="Buyable at or below this lowest price."),
    ] = None,
    max_price_from: Annotated[
        str | None,
        typer.Option(
            "--max-price-from",
            help="Take each want's limit from: notes (the first amount in them).",
        ),
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
    csv_out: CsvOption = None,
    debug: DebugOption = False,
) -> None:
    """Wants whose lowest marketplace price is now at or below a limit.

    Reads the mirror only (run `musicagent sync USER --hydrate stats` or `--prices` first).

    Examples:

      musicagent wants buyable rodney --max-price 20

      musicagent wants buyable rodney --max-price-from notes --json
    """
    with reported(debug):
        if max_price_from is not None and max_price_from != "notes":
            raise InvalidParameterError(
                parameter="--max-price-from", allowed=["notes"], value=max_price_from
            )
        connection = open_database(db or default_path())
        try:
            rows = buyable_wants(
                connection, username, max_price=max_price, from_notes=max_price_from == "notes"
            )
        finally:
            connection.close()
        if csv_out is not None:
            _write_csv(csv_out, rows)
            if str(csv_out) == "-":
                return
    if json:
        print_json(rows)
        return
    table = Table(title=text(f"Buyable wants of {username}"))
    for column in ("release", "title", "lowest price", "limit", "for sale"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["release_id"]),
            text(str(row["title"] or "")),
            f"{row['lowest_price']:.2f} {row['currency'] or ''}".strip(),
            f"{row['limit']:.2f}",
            str(row["num_for_sale"] or 0),
        )
    console.print(table)
    console.print(plural(len(rows), "want") + " buyable")
