"""JSON and JSON Lines exports.

- `JsonExporter` writes one JSON array, item by item: pretty (2-space indent, one item after
  another, exactly what `json.dumps(items, indent=2)` would give) or minified. The opening bracket
  is written first and the closing bracket last, so the array is never held in memory.
- `JsonLinesExporter` writes one compact JSON object per line (`.jsonl`), the format to stream
  into other tools (`jq`, pandas `read_json(lines=True)`, a database loader).

Both write UTF-8 with non-ASCII text as is (no `\\u00e9` escapes) and keep every field the item
has, including fields Discogs added after this release.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from musicagent.export.base import Layout, RecordEncoder, StreamExporter
from musicagent.export.records import Item, check_items, json_bytes, json_lines

__all__ = ["JsonExporter", "JsonLinesExporter"]

_INDENT = 2


class _JsonArrayEncoder(RecordEncoder):
    def __init__(self, *, pretty: bool) -> None:
        self.pretty = pretty

    def preamble(self) -> bytes:
        return b"["

    def encode(self, record: Item, index: int) -> bytes:
        if not self.pretty:
            data = json_bytes(record)
            return data if index == 0 else b"," + data
        # JSON text never holds a raw newline inside a string, so indenting every line by one
        # level nests the item inside the array exactly as json.dumps would.
        data = json_bytes(record, indent=_INDENT).replace(b"\n", b"\n  ")
        return (b"\n  " if index == 0 else b",\n  ") + data

    def trailer(self, count: int) -> bytes:
        return b"\n]\n" if self.pretty and count else b"]\n"


class _ItemsAsTheyAre(StreamExporter):
    """JSON formats take models as they are: `json_bytes` serialises them in one step."""

    def prepare(self, items: Iterable[object]) -> Iterator[Item]:
        """The items, checked, unconverted."""
        return check_items(items)


class JsonExporter(_ItemsAsTheyAre):
    """Export items as one JSON array, written incrementally.

    Args:
        pretty: indent by two spaces, one member per line (default); False writes the whole
            array minified, on one line.
    """

    format_name = "json"
    file_suffix = ".json"

    def __init__(self, *, pretty: bool = True) -> None:
        self.pretty = pretty

    def options(self) -> dict[str, Any]:
        """`{"pretty": …}`."""
        return {"pretty": self.pretty}

    def staging_encoder(self, layout: Layout) -> RecordEncoder:
        """The JSON array encoder; the closing bracket is its trailer."""
        return _JsonArrayEncoder(pretty=self.pretty)


class _JsonLinesEncoder(RecordEncoder):
    def encode(self, record: Item, index: int) -> bytes:
        return json_bytes(record) + b"\n"

    def encode_batch(self, records: Sequence[Item], start: int) -> bytes:
        return json_lines(records)


class JsonLinesExporter(_ItemsAsTheyAre):
    """Export items as JSON Lines: one compact JSON object per line, streamed."""

    format_name = "jsonl"
    file_suffix = ".jsonl"

    def staging_encoder(self, layout: Layout) -> RecordEncoder:
        """The JSON Lines encoder (no preamble, no trailer)."""
        return _JsonLinesEncoder()
