"""Readable terminal views of any API result: a table for lists, the JSON tree otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.json import JSON
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from discogs_cli import Command

MAX_COLUMNS = 7


def items_table(items: list[Any]) -> Table:
    """The items as rows; the columns are the scalar fields of the first item."""
    table = Table(show_lines=False)
    first = items[0] if items and isinstance(items[0], dict) else {}
    columns = [k for k, v in first.items() if not isinstance(v, dict | list)][:MAX_COLUMNS]
    if not columns:
        table.add_column("value")
        for item in items:
            table.add_row(Text(str(item)))
        return table
    for column in columns:
        table.add_column(column, overflow="fold")
    for item in items:
        row = item if isinstance(item, dict) else {}
        table.add_row(*(Text("" if row.get(c) is None else str(row.get(c))) for c in columns))
    return table


def render_result(command: Command, data: Any) -> RenderableType:
    """A view of what an operation returned (or of a dry-run request)."""
    if data is None:
        return Text(f"Done: {command.method} {command.path}")
    if isinstance(data, list):
        return items_table(data) if data else Text("No items.")
    key = command.items_key
    if isinstance(data, dict) and key and isinstance(data.get(key), list):
        pagination = data.get("pagination") or {}
        line = Text(
            f"page {pagination.get('page', 1)} of {pagination.get('pages', 1)}, "
            f"{pagination.get('items', len(data[key]))} items in all",
            style="dim",
        )
        return Group(items_table(data[key]) if data[key] else Text("No items."), line)
    return JSON.from_data(data, ensure_ascii=False)
