"""Readable terminal views of Discogs objects (rich).

Every value shown comes from Discogs, i.e. from whoever typed it: it is printed as a rich `Text`
through `musicagent.cli.safe_text` (never parsed as markup, control characters removed, no
links), titles included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table

from musicagent.cli.safe_text import clean, text


def _join(values: Iterable[Any] | None, key: str = "name") -> str:
    out = []
    for value in values or []:
        if isinstance(value, dict):
            out.append(str(value.get(key) or value.get("title") or ""))
        else:
            out.append(str(value))
    return ", ".join(v for v in out if v)


def _artists(data: dict[str, Any]) -> str:
    artists = data.get("artists") or []
    text = ""
    for artist in artists:
        if isinstance(artist, dict):
            text += str(artist.get("anv") or artist.get("name") or "")
            join = artist.get("join") or ""
            text += f" {join} " if join and join != "," else (", " if join == "," else "")
    return text.strip(" ,") or _join(artists)


def _fields(rows: list[tuple[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for label, value in rows:
        if value not in (None, "", [], {}):
            table.add_row(text(label), text(value, one_line=False))
    return table


def _tracklist(tracks: list[dict[str, Any]] | None) -> Table | None:
    if not tracks:
        return None
    table = Table(title="Tracklist", show_edge=False, expand=False)
    table.add_column("#", style="dim")
    table.add_column("Title")
    table.add_column("Duration", justify="right")
    for track in tracks:
        table.add_row(
            text(track.get("position") or ""),
            text(track.get("title") or ""),
            text(track.get("duration") or ""),
        )
        for sub in track.get("sub_tracks") or []:
            table.add_row(
                text(sub.get("position") or ""),
                text("  " + clean(sub.get("title") or "")),
                text(sub.get("duration") or ""),
            )
    return table


def render(kind: str, data: dict[str, Any]) -> RenderableType:
    """A panel for a release, master, artist, label, listing or order."""
    if kind in ("release", "master"):
        title = f"{_artists(data)} – {data.get('title', '')}"
        body: list[RenderableType] = [
            _fields(
                [
                    ("Id", data.get("id")),
                    ("Year", data.get("year") or None),
                    ("Released", data.get("released_formatted") or data.get("released")),
                    ("Country", data.get("country")),
                    ("Labels", _join(data.get("labels"))),
                    ("Formats", _join(data.get("formats"))),
                    ("Genres", _join(data.get("genres"))),
                    ("Styles", _join(data.get("styles"))),
                    ("For sale", data.get("num_for_sale")),
                    ("Lowest price", data.get("lowest_price")),
                    ("URL", data.get("uri")),
                ]
            )
        ]
        tracks = _tracklist(data.get("tracklist"))
        if tracks is not None:
            body.append(tracks)
        return Panel(Group(*body), title=text(title), title_align="left")
    if kind in ("artist", "label"):
        rows = [
            ("Id", data.get("id")),
            ("Real name", data.get("realname")),
            ("Members", _join(data.get("members"))),
            ("Sublabels", _join(data.get("sublabels"))),
            ("Parent", (data.get("parent_label") or {}).get("name")),
            ("Contact", data.get("contact_info")),
            ("Profile", (data.get("profile") or "")[:500]),
            ("URL", data.get("uri")),
        ]
        return Panel(_fields(rows), title=text(data.get("name", "")), title_align="left")
    if kind == "listing":
        release = data.get("release") or {}
        price = data.get("price") or {}
        rows = [
            ("Id", data.get("id")),
            ("Status", data.get("status")),
            ("Price", f"{price.get('value', '')} {price.get('currency', '')}".strip()),
            ("Condition", data.get("condition")),
            ("Sleeve", data.get("sleeve_condition")),
            ("Seller", (data.get("seller") or {}).get("username")),
            ("Ships from", data.get("ships_from")),
            ("Comments", data.get("comments")),
        ]
        title = release.get("description") or release.get("title") or "Listing"
        return Panel(_fields(rows), title=text(title), title_align="left")
    if kind == "order":
        total = data.get("total") or {}
        rows = [
            ("Id", data.get("id")),
            ("Status", data.get("status")),
            ("Created", data.get("created")),
            ("Buyer", (data.get("buyer") or {}).get("username")),
            ("Total", f"{total.get('value', '')} {total.get('currency', '')}".strip()),
            ("Items", len(data.get("items") or [])),
            ("Next status", ", ".join(data.get("next_status") or [])),
        ]
        return Panel(_fields(rows), title=text(f"Order {data.get('id', '')}"), title_align="left")
    return Panel(_fields(list(data.items())), title=text(kind))


def search_table(results: list[dict[str, Any]]) -> Table:
    """Search results as a table."""
    table = Table(show_edge=False)
    table.add_column("Type", style="dim")
    table.add_column("Id", justify="right")
    table.add_column("Title")
    table.add_column("Year")
    table.add_column("Country")
    table.add_column("Format")
    for result in results:
        fmt = result.get("format")
        table.add_row(
            text(result.get("type") or ""),
            text(result.get("id") or ""),
            text(result.get("title") or ""),
            text(result.get("year") or ""),
            text(result.get("country") or ""),
            text(", ".join(map(str, fmt)) if isinstance(fmt, list) else fmt or ""),
        )
    return table
