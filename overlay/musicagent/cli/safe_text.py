"""Printing text that came from somewhere else (Discogs, a file, an error) without obeying it.

Titles, usernames, notes and error messages are whatever somebody typed. On a terminal, rich
would read `[/bold]` or `[link=…]` in them as markup (crashing, or hiding a link behind a
word), and the terminal itself would obey escape sequences (set the window title, clear the
screen, write the clipboard with OSC 52). So every piece of outside text goes through `clean`
(control and bidirectional-override characters removed, line breaks turned into spaces where a
single line is wanted) and is printed as a `rich.text.Text`, which rich never parses — or, when
it is part of a markup string, through `markup`, which escapes it. Links are never made from
outside text.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from rich.markup import escape
from rich.text import Text

__all__ = ["clean", "json_text", "markup", "text"]

# Format characters that reorder or hide text on screen (bidirectional overrides, isolates,
# zero-width joiners are kept: they are part of real names in several scripts).
_INVISIBLE_ORDER = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def clean(value: object, *, one_line: bool = True) -> str:
    """`str(value)` without control characters: C0 and C1 controls (escape sequences start
    with ESC or CSI), DEL, and bidirectional overrides are dropped; tabs and line breaks become
    spaces when `one_line`, else line breaks are kept."""
    out: list[str] = []
    for character in "" if value is None else str(value):
        if character in "\n\r\t":
            out.append(" " if one_line or character == "\t" else "\n" if character == "\n" else "")
        elif unicodedata.category(character) == "Cc" or character in _INVISIBLE_ORDER:
            continue
        else:
            out.append(character)
    return "".join(out)


def text(value: object, *, one_line: bool = True, style: str = "") -> Text:
    """Outside text as a rich `Text`: cleaned, never parsed as markup."""
    return Text(clean(value, one_line=one_line), style=style)


def markup(value: object) -> str:
    """Outside text for use inside a rich markup string: cleaned and escaped."""
    return escape(clean(value))


def json_text(data: Any) -> str:
    """JSON for standard output: `json.dumps` already escapes C0 controls; C1 controls (which
    some terminals obey as escape sequences) and bidirectional overrides are escaped as well,
    so the JSON means the same and shows harmlessly."""
    raw = json.dumps(data, ensure_ascii=False, indent=2)
    # Outside strings only the indentation's line breaks are controls: keep those.
    return "".join(
        f"\\u{ord(c):04x}"
        if c != "\n" and (unicodedata.category(c) == "Cc" or c in _INVISIBLE_ORDER)
        else c
        for c in raw
    )
